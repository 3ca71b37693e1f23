-- Headless Neovim (0.7+) as a `cspec lsp` client, for tests/lsp/test_editors.py.
--
--   CSPEC_CMD=... CSPEC_ROOT=... CSPEC_FILE=... CSPEC_OUT=... CSPEC_POSITIONS=... \
--     timeout 120 nvim --headless --clean -u NONE -c "luafile editors/nvim/lsp_check.lua"
--
-- Opens CSPEC_FILE, waits for the server's diagnostics, asks for hover, completion and
-- definition at the positions of CSPEC_POSITIONS (JSON: {"hover": [line, character], ...},
-- 0-based) and writes what it got to CSPEC_OUT as JSON, then quits.
local env = vim.env
local results = { errors = {} }

local function finish()
  vim.fn.writefile({ vim.fn.json_encode(results) }, env.CSPEC_OUT)
  vim.cmd("qall!")
end

local ok, err = pcall(function()
  local client_id = vim.lsp.start_client({
    name = "cspec",
    cmd = vim.fn.json_decode(env.CSPEC_CMD),
    root_dir = env.CSPEC_ROOT,
  })
  assert(client_id, "the server did not start")
  vim.cmd("edit " .. vim.fn.fnameescape(env.CSPEC_FILE))
  vim.bo.filetype = "cspec" -- no filetype detection for .cspec in a bare Neovim
  vim.lsp.buf_attach_client(0, client_id)
  local client = vim.lsp.get_client_by_id(client_id)
  vim.wait(60000, function() return client.initialized end, 50)

  vim.wait(60000, function() return #vim.diagnostic.get(0) > 0 end, 50)
  results.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(0)) do
    local lsp_d = (d.user_data or {}).lsp or {}
    table.insert(results.diagnostics, {
      code = d.code or lsp_d.code, message = d.message, line = d.lnum, col = d.col,
    })
  end

  local positions = vim.fn.json_decode(env.CSPEC_POSITIONS)
  local function ask(method, at, extra)
    local params = vim.lsp.util.make_text_document_params(0)
    params = { textDocument = params, position = { line = at[1], character = at[2] } }
    for k, v in pairs(extra or {}) do params[k] = v end
    local response = client.request_sync(method, params, 30000, 0)
    if not response or response.err then
      table.insert(results.errors, method .. ": " .. vim.inspect(response and response.err))
      return nil
    end
    return response.result
  end

  local hover = ask("textDocument/hover", positions.hover)
  results.hover = hover and hover.contents and hover.contents.value or vim.NIL

  local completion = ask("textDocument/completion", positions.completion)
  results.completion = {}
  for _, item in ipairs((completion or {}).items or completion or {}) do
    table.insert(results.completion, item.label)
  end

  local definition = ask("textDocument/definition", positions.definition)
  results.definition = {}
  for _, location in ipairs(definition or {}) do
    table.insert(results.definition, { uri = location.uri, line = location.range.start.line })
  end
end)
if not ok then table.insert(results.errors, tostring(err)) end
finish()
