-- Loaded automatically when editors/nvim is on 'runtimepath' (Neovim 0.7+): defines the
-- :Aether* commands and the `aether/status` notification handler. Starting the server is up to
-- vim.lsp.enable('aether') (0.11+) or require('aether').setup() (any version).
if vim.g.loaded_aether then
  return
end
vim.g.loaded_aether = true

if vim.fn.has('nvim-0.7') == 0 then
  return
end

require('aether').create_commands()
require('aether').register_handlers()
require('aether').register_attach()

-- Neovim before 0.8 does not know .mts/.cts; `setfiletype` leaves a detected filetype alone.
vim.api.nvim_create_autocmd({ 'BufNewFile', 'BufRead' }, {
  group = vim.api.nvim_create_augroup('aether_filetypes', { clear = true }),
  pattern = { '*.mts', '*.cts' },
  command = 'setfiletype typescript',
})
