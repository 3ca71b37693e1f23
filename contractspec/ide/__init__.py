"""The IDE layer: editor features over the analysis, free of any editor protocol.

Like rust-analyzer's `ide` crate, nothing here imports pygls or lsprotocol: positions are
code-point offsets into a file named by its display path, ranges are `Span`s. The
language server (`contractspec.server`) converts to and from LSP.

- `host.Host` keeps the workspace (disk files, unsaved buffers) and builds a `World`;
- `world.World` is one analysis with its reference index (`index.Index`);
- the features are functions of a `World`: `hover`, `completion`, `navigation`
  (definition, references, highlight, rename), `outline` (document and workspace symbols,
  folding), `tokens` (semantic tokens), `actions` (quick fixes), `access` (who can do what).
"""
