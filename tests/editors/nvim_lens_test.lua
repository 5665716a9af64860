-- Headless Neovim check of AETHER's code lenses (0.10+), through the plugin as a user loads
-- it: require('aether').setup() starts `aether lsp`, the plugin's LspAttach hook shows lenses.
--
-- Environment: AETHER_TEST_FILE (file to open), AETHER_TEST_CMD (server command, JSON array),
-- AETHER_TEST_OUT (receives the lenses as JSON: [[line0, title], ...]), AETHER_TEST_RUNTIME
-- (editors/nvim), AETHER_TEST_TIMEOUT_MS. Exit 0 with lenses written; 2 no client; 3 no lens.

local function log(msg)
  io.stderr:write('nvim_lens_test: ' .. msg .. '\n')
end

vim.opt.runtimepath:append(os.getenv('AETHER_TEST_RUNTIME'))
vim.cmd('runtime plugin/aether.lua')
local aether = require('aether')
aether.setup({ cmd = vim.json.decode(os.getenv('AETHER_TEST_CMD')) })
vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('AETHER_TEST_FILE')))
local bufnr = vim.api.nvim_get_current_buf()
local timeout = tonumber(os.getenv('AETHER_TEST_TIMEOUT_MS') or '60000')

local attached = vim.wait(timeout, function()
  local clients = vim.lsp.get_clients({ bufnr = bufnr, name = 'aether' })
  return #clients > 0 and clients[1].initialized
end, 50)
if not attached then
  log('no client attached')
  vim.cmd('cquit 2')
end

local found = {}
local ok = vim.wait(timeout, function()
  vim.lsp.codelens.refresh({ bufnr = bufnr })
  vim.wait(200)
  found = {}
  for _, lens in ipairs(vim.lsp.codelens.get(bufnr)) do
    if lens.command and lens.command.title:find('callers?') then
      table.insert(found, { lens.range.start.line, lens.command.title })
    end
  end
  return #found > 0
end, 300)

for _, c in ipairs(vim.lsp.get_clients()) do
  c:stop()
end
vim.wait(3000, function()
  return #vim.lsp.get_clients() == 0
end, 20)
if not ok then
  log('no code lens arrived')
  vim.cmd('cquit 3')
end
local f = assert(io.open(os.getenv('AETHER_TEST_OUT'), 'w'))
f:write(vim.json.encode(found))
f:close()
vim.cmd('qall!')
