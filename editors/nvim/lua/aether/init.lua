-- AETHER for Neovim: start `aether lsp` and a few commands around it.
--
--   require('aether').setup({})      -- any Neovim from 0.7 on (FileType autocmd + vim.lsp.start)
--   vim.lsp.enable('aether')         -- 0.11+, with lsp/aether.lua from this folder instead
--
-- Commands (defined as soon as this folder is on 'runtimepath', see plugin/aether.lua; they
-- work with a client started either way):
--   :AetherSearch [query]   workspace/symbol → quickfix list (:AetherSearch! → vim.ui.select)
--   :AetherIndex            ask the server to index the workspace
--   :AetherRefresh          regenerate the summary of the symbol under the cursor, echo result
--   :AetherStatus           counts, provider circuit, workspace and database
--   :AetherImpact [rev]     symbols uncommitted changes touch (vs rev, default HEAD) and their
--                           callers → quickfix list
--   :AetherCallers / :AetherCallees   incoming / outgoing calls of the symbol at the cursor
--   :AetherLens             run the code lens of the current line ("N callers · SIR stale":
--                           regenerates that summary)
-- Code lenses are shown in buffers the server is attached to (0.9+), refreshed on enter, save
-- and leaving insert mode; set vim.g.aether_codelens = false to turn them off.
-- Hover is Neovim's own (K / vim.lsp.buf.hover()); a stale summary's first line is the
-- "⚠ AETHER: ..." banner, shown as is.
local M = {}

local uv = vim.uv or vim.loop

M.filetypes = {
  'python',
  'javascript',
  'javascriptreact',
  'typescript',
  'typescriptreact',
  'rust',
  'go',
}

M.root_markers = { '.aether', '.git', 'pyproject.toml', 'package.json', 'Cargo.toml', 'go.mod' }

local defaults = {
  -- Full server command; nil = `aether lsp`, with <root>/.venv/bin/aether or
  -- <root>/venv/bin/aether preferred over PATH.
  cmd = nil,
  provider = nil, -- passed as --provider
  model = nil, -- passed as --model
  extra_args = {}, -- appended to the command
  filetypes = M.filetypes,
  root_markers = M.root_markers,
  on_attach = nil, -- function(client, bufnr)
  capabilities = nil,
  commands = true, -- define the :Aether* commands
}

M.config = vim.deepcopy(defaults)

--- Last `aether/status` notification per client id.
M.status = {}

--- Clients started by setup() on Neovim 0.7 (no vim.lsp.start there), by root dir.
local started = {}

local function has(version)
  return vim.fn.has('nvim-' .. version) == 1
end

local function notify(msg, level)
  vim.notify('AETHER: ' .. msg, level or vim.log.levels.INFO)
end

--- Clients named "aether", optionally only those attached to `bufnr` (0.7 → 0.11+).
function M.get_clients(bufnr)
  if vim.lsp.get_clients then
    return vim.lsp.get_clients({ name = 'aether', bufnr = bufnr })
  end
  local out = {}
  for _, client in ipairs(vim.lsp.get_active_clients()) do
    if client.name == 'aether' and (bufnr == nil or vim.lsp.buf_is_attached(bufnr, client.id)) then
      table.insert(out, client)
    end
  end
  return out
end

--- The AETHER client for the current buffer, else any running one; nil (and a message) if none.
function M.client(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = M.get_clients(bufnr)[1] or M.get_clients()[1]
  if client == nil then
    notify(
      'no running AETHER client (open a file of the workspace; on 0.11+ vim.lsp.enable("aether"), '
        .. 'otherwise require("aether").setup())',
      vim.log.levels.ERROR
    )
  end
  return client
end

--- client:request() on 0.11+, client.request() before (the dot form is deprecated in 0.11).
local function request(client, method, params, handler, bufnr)
  if has('0.11') then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

--- workspace/executeCommand on one client. `arguments` nil is sent as no arguments.
function M.execute(client, command, arguments, handler, bufnr)
  local params = { command = command, arguments = arguments }
  return request(client, 'workspace/executeCommand', params, function(err, result, ctx)
    if err then
      notify(command .. ' failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    if handler then
      handler(result, ctx)
    end
  end, bufnr)
end

--- Directory of the nearest root marker above the buffer's file, or nil.
function M.find_root(bufnr, markers)
  markers = markers or M.config.root_markers
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' then
    return nil
  end
  if vim.fs and vim.fs.root then -- 0.10+
    return vim.fs.root(bufnr, markers)
  end
  local dir = vim.fn.fnamemodify(name, ':p:h')
  if vim.fs and vim.fs.find then -- 0.8, 0.9
    local found = vim.fs.find(markers, { upward = true, path = dir })[1]
    return found and vim.fs.dirname(found) or nil
  end
  while true do -- 0.7
    for _, marker in ipairs(markers) do
      if uv.fs_stat(dir .. '/' .. marker) then
        return dir
      end
    end
    local parent = vim.fn.fnamemodify(dir, ':h')
    if parent == dir then
      return nil
    end
    dir = parent
  end
end

--- The server command for a workspace root.
function M.resolve_cmd(opts, root)
  local cmd
  if opts.cmd then
    cmd = vim.deepcopy(opts.cmd)
  else
    local exe = 'aether'
    if root then
      for _, venv in ipairs({ '.venv', 'venv' }) do
        local candidate = root .. '/' .. venv .. '/bin/aether'
        if vim.fn.executable(candidate) == 1 then
          exe = candidate
          break
        end
      end
    end
    cmd = { exe, 'lsp' }
  end
  if opts.provider and opts.provider ~= '' then
    vim.list_extend(cmd, { '--provider', opts.provider })
  end
  if opts.model and opts.model ~= '' then
    vim.list_extend(cmd, { '--model', opts.model })
  end
  vim.list_extend(cmd, opts.extra_args or {})
  return cmd
end

local function status_text(s)
  if s == nil then
    return 'AETHER …'
  end
  local text
  if s.state == 'error' then
    text = 'AETHER ✗'
  elseif s.state == 'indexing' then
    text = (s.files_total or 0) > 0
        and string.format('AETHER %d/%d', s.files_done or 0, s.files_total)
      or 'AETHER indexing'
  elseif (s.pending_count or 0) > 0 then
    text = string.format('AETHER %d pending', s.pending_count)
  else
    text = 'AETHER ✓'
  end
  if (s.stale_count or 0) > 0 then
    text = text .. string.format(' ⚠%d stale', s.stale_count)
  end
  if s.circuit == 'open' then
    text = text .. ' (provider down)'
  end
  return text
end

--- Short status for a statusline: "AETHER 12/40", "AETHER ✓ ⚠3 stale", or "" without a client.
function M.statusline()
  local client = M.get_clients(vim.api.nvim_get_current_buf())[1]
  if client == nil then
    return ''
  end
  return status_text(M.status[client.id])
end

--- Handler of the `aether/status` notification: remembers it and fires `User AetherStatus`.
function M.on_status(_, result, ctx)
  if type(result) ~= 'table' then
    return
  end
  M.status[ctx.client_id] = result
  local opts = { pattern = 'AetherStatus', modeline = false }
  if has('0.8') then
    opts.data = { client_id = ctx.client_id, status = result }
  end
  pcall(vim.api.nvim_exec_autocmds, 'User', opts)
end

function M.register_handlers()
  vim.lsp.handlers['aether/status'] = M.on_status
end

--- Start (or reuse) the client for a buffer's workspace and attach the buffer.
function M.start(bufnr, opts)
  opts = opts or M.config
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if vim.bo[bufnr].buftype ~= '' then
    return nil
  end
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' or name:match('^%a[%w+.-]*://') then
    return nil
  end
  local root = M.find_root(bufnr, opts.root_markers) or vim.fn.fnamemodify(name, ':p:h')
  local cmd = M.resolve_cmd(opts, root)
  if vim.fn.executable(cmd[1]) ~= 1 then
    notify(
      string.format('"%s" is not executable; install aether or set cmd in setup()', cmd[1]),
      vim.log.levels.ERROR
    )
    return nil
  end
  local config = {
    name = 'aether',
    cmd = cmd,
    cmd_cwd = root,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    capabilities = opts.capabilities,
    on_attach = opts.on_attach,
    handlers = { ['aether/status'] = M.on_status },
  }
  if vim.lsp.start then -- 0.8+: reuses the client with the same name and root_dir
    return vim.lsp.start(config, { bufnr = bufnr })
  end
  local id = started[root]
  if id == nil or vim.lsp.client_is_stopped(id) then
    id = vim.lsp.start_client(config)
    started[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

function M.setup(opts)
  -- Shallow on purpose: a list such as filetypes replaces the default, it is not merged.
  M.config = vim.tbl_extend('force', vim.deepcopy(defaults), opts or {})
  if M.config.commands then
    M.create_commands()
  end
  M.register_handlers()
  local group = vim.api.nvim_create_augroup('aether_lsp', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = M.config.filetypes,
    callback = function(args)
      M.start(args.buf)
    end,
    desc = 'Start the AETHER language server',
  })
  -- Buffers that were already open before setup().
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.tbl_contains(M.config.filetypes, vim.bo[buf].filetype) then
      M.start(buf)
    end
  end
end

--- Quickfix items from workspace/symbol results.
local function symbol_items(symbols, bufnr, client)
  return vim.lsp.util.symbols_to_items(symbols, bufnr, client.offset_encoding)
end

local function jump_to(item)
  vim.cmd('edit ' .. vim.fn.fnameescape(item.filename))
  pcall(vim.api.nvim_win_set_cursor, 0, { item.lnum, math.max((item.col or 1) - 1, 0) })
end

--- workspace/symbol: into the quickfix list, or a vim.ui.select picker when `pick` is true.
function M.search(query, pick)
  if query == nil or query == '' then
    vim.ui.input({ prompt = 'AETHER search: ' }, function(input)
      if input and input ~= '' then
        M.search(input, pick)
      end
    end)
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if client == nil then
    return
  end
  request(client, 'workspace/symbol', { query = query }, function(err, result)
    if err then
      notify('search failed: ' .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    if result == nil or vim.tbl_isempty(result) then
      notify('no symbol matches "' .. query .. '"', vim.log.levels.WARN)
      return
    end
    local items = symbol_items(result, bufnr, client)
    if pick then
      vim.ui.select(items, {
        prompt = 'AETHER: ' .. query,
        format_item = function(item)
          return string.format('%s  %s:%d', item.text, vim.fn.fnamemodify(item.filename, ':.'), item.lnum)
        end,
      }, function(choice)
        if choice then
          jump_to(choice)
        end
      end)
    else
      vim.fn.setqflist({}, ' ', { title = 'AETHER: ' .. query, items = items })
      vim.cmd('botright copen')
    end
  end, bufnr)
end

function M.index()
  local client = M.client()
  if client == nil then
    return
  end
  M.execute(client, 'aether.indexWorkspace', nil, function()
    notify('indexing the workspace')
  end)
end

--- Text and level for the result of aether.refreshSymbol.
function M.refresh_message(result)
  if type(result) ~= 'table' then
    return 'no symbol at the cursor', vim.log.levels.WARN
  end
  local status = result.sir_status or 'unknown'
  if status == 'ok' then
    return 'summary refreshed (ok)', vim.log.levels.INFO
  end
  local err = result.last_error
  local text = 'summary is ' .. status .. ((type(err) == 'string' and err ~= '') and (': ' .. err) or '')
  return text, (status == 'stale' or status == 'pending') and vim.log.levels.WARN or vim.log.levels.ERROR
end

function M.refresh()
  local bufnr = vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if client == nil then
    return
  end
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local arg = { uri = params.textDocument.uri, position = params.position }
  notify('refreshing the summary at the cursor…')
  M.execute(client, 'aether.refreshSymbol', { arg }, function(result)
    local text, level = M.refresh_message(result)
    notify(text, level)
  end, bufnr)
end

function M.show_status()
  local client = M.client()
  if client == nil then
    return
  end
  M.execute(client, 'aether.status', nil, function(s)
    if type(s) ~= 'table' then
      notify('no status', vim.log.levels.WARN)
      return
    end
    M.status[client.id] = s
    local lines = {
      status_text(s),
      string.format('state %s, files %d/%d', s.state, s.files_done or 0, s.files_total or 0),
      string.format(
        'symbols %d, summaries %d, stale %d, pending %d',
        s.symbol_count or 0,
        s.sir_count or 0,
        s.stale_count or 0,
        s.pending_count or 0
      ),
      'provider circuit: ' .. tostring(s.circuit),
    }
    if type(s.message) == 'string' and s.message ~= '' then
      table.insert(lines, s.message)
    end
    if s.workspace then
      table.insert(lines, 'workspace: ' .. s.workspace)
    end
    if s.db_path then
      table.insert(lines, 'database: ' .. s.db_path)
    end
    vim.notify(table.concat(lines, '\n'), vim.log.levels.INFO)
  end)
end

--- Quickfix items for the result of `aether.impact` (changed symbols, then callers).
function M.impact_items(result, root)
  local items = {}
  if type(result) ~= 'table' then
    return items
  end
  for _, group in ipairs({ { 'changed', 'changed' }, { 'callers', 'caller' } }) do
    for _, entry in ipairs(type(result[group[1]]) == 'table' and result[group[1]] or {}) do
      local sym = type(entry) == 'table' and entry.symbol or nil
      if type(sym) == 'table' and type(sym.file_path) == 'string' then
        local what = group[2] == 'changed' and 'changed' or ('caller, depth ' .. tostring(entry.depth))
        local state = sym.sir_status ~= 'ok' and (' · SIR ' .. tostring(sym.stale_reason or sym.sir_status))
          or ''
        table.insert(items, {
          filename = (root and (root .. '/') or '') .. sym.file_path,
          lnum = sym.start_line or 1,
          text = string.format('%s (%s)%s', sym.qualified_name or '?', what, state),
        })
      end
    end
  end
  return items
end

function M.impact(ref)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = M.client(bufnr)
  if client == nil then
    return
  end
  local arg = { ref = (ref ~= nil and ref ~= '') and ref or 'HEAD' }
  M.execute(client, 'aether.impact', { arg }, function(result)
    local root = client.config and client.config.root_dir or nil
    local items = M.impact_items(result, root)
    if #items == 0 then
      notify('no indexed symbol changed since ' .. arg.ref)
      return
    end
    vim.fn.setqflist({}, ' ', { title = 'AETHER impact vs ' .. arg.ref, items = items })
    vim.cmd('copen')
  end, bufnr)
end

--- Show and refresh code lenses in a buffer the server attached to (0.9+).
function M.attach_codelens(bufnr)
  if vim.g.aether_codelens == false or not has('0.9') then
    return
  end
  local function refresh()
    if has('0.10') then
      pcall(vim.lsp.codelens.refresh, { bufnr = bufnr })
    else
      pcall(vim.lsp.codelens.refresh)
    end
  end
  vim.api.nvim_create_autocmd({ 'BufEnter', 'BufWritePost', 'InsertLeave' }, {
    group = vim.api.nvim_create_augroup('aether_codelens_' .. bufnr, { clear = true }),
    buffer = bufnr,
    callback = refresh,
    desc = 'AETHER: refresh code lenses',
  })
  refresh()
end

function M.register_attach()
  if not has('0.8') then
    return
  end
  vim.api.nvim_create_autocmd('LspAttach', {
    group = vim.api.nvim_create_augroup('aether_attach', { clear = true }),
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data and args.data.client_id or -1)
      if client and client.name == 'aether' then
        M.attach_codelens(args.buf)
      end
    end,
  })
end

function M.create_commands()
  local create = vim.api.nvim_create_user_command
  create('AetherSearch', function(a)
    M.search(a.args, a.bang)
  end, { nargs = '?', bang = true, desc = 'AETHER: search symbols (! = picker)' })
  create('AetherIndex', function()
    M.index()
  end, { nargs = 0, desc = 'AETHER: index the workspace' })
  create('AetherRefresh', function()
    M.refresh()
  end, { nargs = 0, desc = 'AETHER: refresh the summary at the cursor' })
  create('AetherStatus', function()
    M.show_status()
  end, { nargs = 0, desc = 'AETHER: show status' })
  create('AetherImpact', function(a)
    M.impact(a.args)
  end, { nargs = '?', desc = 'AETHER: symbols uncommitted changes touch, and their callers' })
  create('AetherCallers', function()
    vim.lsp.buf.incoming_calls()
  end, { nargs = 0, desc = 'AETHER: who calls the symbol at the cursor' })
  create('AetherCallees', function()
    vim.lsp.buf.outgoing_calls()
  end, { nargs = 0, desc = 'AETHER: what the symbol at the cursor calls' })
  create('AetherLens', function()
    vim.lsp.codelens.run()
  end, { nargs = 0, desc = 'AETHER: run the code lens of this line (regenerate its summary)' })
end

return M
