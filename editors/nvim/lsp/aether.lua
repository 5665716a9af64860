-- AETHER language server for Neovim 0.11+ (`:h lsp-config`).
--
-- With this folder (editors/nvim) on 'runtimepath':
--   vim.lsp.enable('aether')
-- Override anything with vim.lsp.config('aether', { cmd = { '/path/to/aether', 'lsp' } }).
-- Hover (K) shows the symbol's summary; a stale one starts with "⚠ AETHER:".
return {
  cmd = { 'aether', 'lsp' },
  filetypes = {
    'python',
    'javascript',
    'javascriptreact',
    'typescript',
    'typescriptreact',
    'rust',
    'go',
  },
  root_markers = { '.aether', '.git', 'pyproject.toml', 'package.json', 'Cargo.toml', 'go.mod' },
}
