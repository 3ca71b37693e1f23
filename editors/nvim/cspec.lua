-- ContractSpec for Neovim 0.7+ without plugins: put this file in ~/.config/nvim/plugin/
-- (or `require` it from init.lua). It detects .cspec files and starts `cspec lsp` for
-- them, rooted at the nearest cspec.toml. docs/editors.md shows the nvim-lspconfig way.
vim.cmd([[autocmd BufRead,BufNewFile *.cspec setfiletype cspec]])
vim.cmd([[autocmd FileType cspec setlocal commentstring=//\ %s]])

local clients = {}

local function root_of(file)
  local dir = vim.fn.fnamemodify(file, ":p:h")
  local found = vim.fn.findfile("cspec.toml", dir .. ";")
  return found ~= "" and vim.fn.fnamemodify(found, ":p:h") or dir
end

vim.api.nvim_create_autocmd("FileType", {
  pattern = "cspec",
  callback = function(args)
    local root = root_of(vim.api.nvim_buf_get_name(args.buf))
    if not clients[root] then
      clients[root] = vim.lsp.start_client({
        name = "cspec",
        cmd = { "cspec", "lsp" },
        root_dir = root,
      })
    end
    if clients[root] then
      vim.lsp.buf_attach_client(args.buf, clients[root])
    end
  end,
})
