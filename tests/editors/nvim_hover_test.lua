-- Headless Neovim hover check for AETHER (Neovim 0.7+; run it through nvim_runner.py).
--
--   nvim --headless --clean -c "luafile tests/editors/nvim_hover_test.lua" </dev/null
--
-- Environment:
--   AETHER_TEST_FILE        file to open (absolute, or relative to the current directory)
--   AETHER_TEST_LINE/COL    0-based hover position (COL in the negotiated position encoding;
--                           for ASCII text that is the byte column)
--   AETHER_TEST_CMD         the server command as a JSON array, e.g. ["aether","lsp"]
--   AETHER_TEST_OUT         file that receives the hover Markdown, exactly as the server sent it
--   AETHER_TEST_TIMEOUT_MS  overall time limit (default 30000)
--   AETHER_TEST_MODE        "native": lsp/aether.lua + vim.lsp.enable (0.11+ only);
--                           "setup": require('aether').setup(); "auto" (default): native on
--                           0.11+, setup before
--   AETHER_TEST_FLOAT_OUT   optional: also open the real hover window (vim.lsp.buf.hover())
--                           and write the lines it shows
--   AETHER_TEST_ALLOW_EMPTY "1": an empty hover is a result (empty file, exit 0), not a failure
--   AETHER_TEST_EXPECT      optional plain substring: retry the hover until it contains this
--                           (e.g. "**Intent:**" to wait past "no summary yet")
--
-- A null/empty hover (or one without AETHER_TEST_EXPECT) is retried until the time limit: the
-- server may still be indexing. On exit 3 the last hover seen is still written to the file.
-- Exit codes: 0 ok; 1 bad environment; 2 no client attached/initialized; 3 hover stayed empty
-- (or never contained AETHER_TEST_EXPECT);
-- 4 the server answered hover with an error; 5 the hover window did not open.
-- Messages go to stderr, prefixed "nvim_hover_test:".

local t0 = vim.loop.hrtime()
local function elapsed_ms()
  return (vim.loop.hrtime() - t0) / 1e6
end

local function log(msg)
  io.stderr:write('nvim_hover_test: ' .. msg .. '\n')
  io.stderr:flush()
end

local function env(name, default)
  local v = os.getenv(name)
  if v == nil or v == '' then
    return default
  end
  return v
end

local function stop_clients()
  local clients = vim.lsp.get_clients and vim.lsp.get_clients() or vim.lsp.get_active_clients()
  for _, c in ipairs(clients) do
    if vim.fn.has('nvim-0.11') == 1 then
      c:stop()
    else
      c.stop()
    end
  end
  -- Let the server get shutdown/exit before Neovim goes away.
  vim.wait(3000, function()
    local left = vim.lsp.get_clients and vim.lsp.get_clients() or vim.lsp.get_active_clients()
    return #left == 0
  end, 20)
end

local function finish(code, msg)
  if msg then
    log(msg)
  end
  pcall(stop_clients)
  if code == 0 then
    vim.cmd('qall!')
  else
    vim.cmd('cquit ' .. code)
  end
end

local function write_file(path, text)
  local f, err = io.open(path, 'wb')
  if not f then
    finish(1, 'cannot write ' .. path .. ': ' .. tostring(err))
    return false
  end
  f:write(text)
  f:close()
  return true
end

-- Messages meant for the user (e.g. "not executable") would be lost headless: send to stderr.
vim.notify = function(msg, level)
  log('notify[' .. tostring(level) .. ']: ' .. tostring(msg))
end

local ok, main_err = xpcall(function()
  -- Inputs ----------------------------------------------------------------------------------
  local file = env('AETHER_TEST_FILE')
  local line = tonumber(env('AETHER_TEST_LINE', ''))
  local col = tonumber(env('AETHER_TEST_COL', ''))
  local cmd_json = env('AETHER_TEST_CMD')
  local out = env('AETHER_TEST_OUT')
  local timeout = tonumber(env('AETHER_TEST_TIMEOUT_MS', '30000'))
  local mode = env('AETHER_TEST_MODE', 'auto')
  local float_out = env('AETHER_TEST_FLOAT_OUT')
  local allow_empty = env('AETHER_TEST_ALLOW_EMPTY') == '1'
  local expect = env('AETHER_TEST_EXPECT')
  if not (file and line and col and cmd_json and out and timeout) then
    return finish(1, 'set AETHER_TEST_FILE, AETHER_TEST_LINE, AETHER_TEST_COL, AETHER_TEST_CMD, AETHER_TEST_OUT')
  end
  local dec_ok, cmd = pcall(vim.fn.json_decode, cmd_json)
  if not dec_ok or type(cmd) ~= 'table' or type(cmd[1]) ~= 'string' then
    return finish(1, 'AETHER_TEST_CMD must be a JSON array of strings, got: ' .. cmd_json)
  end
  file = vim.fn.fnamemodify(file, ':p')
  if vim.fn.filereadable(file) ~= 1 then
    return finish(1, 'AETHER_TEST_FILE is not a readable file: ' .. file)
  end
  local has011 = vim.fn.has('nvim-0.11') == 1
  if mode == 'auto' then
    mode = has011 and 'native' or 'setup'
  end
  local v = vim.version()
  log(string.format('Neovim %d.%d.%d, mode %s, cmd %s', v.major, v.minor, v.patch, mode, table.concat(cmd, ' ')))

  -- Our config: editors/nvim on 'runtimepath' ------------------------------------------------
  local script = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p')
  local repo = vim.fn.fnamemodify(script, ':h:h:h')
  local nvim_dir = repo .. '/editors/nvim'
  if vim.fn.isdirectory(nvim_dir) ~= 1 then
    return finish(1, 'editors/nvim not found at ' .. nvim_dir)
  end
  vim.opt.runtimepath:prepend(nvim_dir)
  vim.cmd('runtime plugin/aether.lua') -- plugins were loaded before rtp had it
  local aether = require('aether')

  if mode == 'native' then
    if not has011 then
      return finish(1, 'AETHER_TEST_MODE=native needs Neovim 0.11+')
    end
    -- lsp/aether.lua from editors/nvim gives filetypes and root_markers; only cmd is ours.
    vim.lsp.config('aether', { cmd = cmd })
    local cfg = vim.lsp.config.aether
    if not (cfg and cfg.filetypes and vim.tbl_contains(cfg.filetypes, 'python') and cfg.root_markers) then
      return finish(1, 'lsp/aether.lua was not picked up from ' .. nvim_dir)
    end
    vim.lsp.enable('aether')
  elseif mode == 'setup' then
    aether.setup({ cmd = cmd })
  else
    return finish(1, 'AETHER_TEST_MODE must be auto, native or setup, not ' .. mode)
  end

  -- Open the file (its FileType starts the client) --------------------------------------------
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  if vim.bo[buf].filetype == '' then
    return finish(1, 'no filetype detected for ' .. file)
  end
  local function remaining()
    return math.max(timeout - elapsed_ms(), 0)
  end

  local client
  vim.wait(remaining(), function()
    client = aether.get_clients(buf)[1]
    return client ~= nil and client.initialized == true
  end, 20)
  if not (client and client.initialized) then
    return finish(2, string.format(
      'no AETHER client attached and initialized within %d ms (filetype %s, cmd %s); LSP log: %s',
      timeout, vim.bo[buf].filetype, table.concat(cmd, ' '), vim.lsp.get_log_path()))
  end
  log(string.format('client %d attached after %d ms, root %s', client.id, elapsed_ms(), tostring(client.config.root_dir)))

  -- Hover ----------------------------------------------------------------------------------
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = line, character = col },
  }
  local function markdown_of(contents)
    if contents == nil or contents == vim.NIL then
      return ''
    end
    if type(contents) == 'string' then
      return contents
    end
    if contents.kind ~= nil or (contents.value ~= nil and contents.language == nil) then
      return contents.value or '' -- MarkupContent
    end
    if contents.language ~= nil then -- MarkedString { language, value }
      return '```' .. contents.language .. '\n' .. (contents.value or '') .. '\n```'
    end
    local parts = {}
    for _, part in ipairs(contents) do
      local text = markdown_of(part)
      if text ~= '' then
        table.insert(parts, text)
      end
    end
    return table.concat(parts, '\n\n')
  end

  local markdown = ''
  local tries = 0
  local no_answer = nil
  while remaining() > 0 do
    tries = tries + 1
    local responses, err = vim.lsp.buf_request_sync(buf, 'textDocument/hover', params, remaining())
    if responses == nil then
      no_answer = tostring(err) -- out of time mid-request
      break
    end
    local resp = responses[client.id]
    if resp and resp.err then
      return finish(4, 'server answered hover with an error: ' .. vim.inspect(resp.err))
    end
    local result = resp and resp.result
    if type(result) == 'table' then
      markdown = markdown_of(result.contents)
    end
    if expect then
      if markdown:find(expect, 1, true) then
        break
      end
    elseif markdown ~= '' or allow_empty then
      break
    end
    vim.wait(math.min(250, remaining()), function()
      return false
    end)
  end
  if expect and not markdown:find(expect, 1, true) then
    write_file(out, markdown)
    return finish(3, string.format('hover at %d:%d never contained %q in %d ms (%d tries%s); last: %s',
      line, col, expect, timeout, tries, no_answer and ', last one unanswered' or '', markdown:sub(1, 200)))
  end
  if markdown == '' and not allow_empty then
    return finish(3, string.format('hover at %d:%d stayed empty for %d ms (%d tries%s)',
      line, col, timeout, tries, no_answer and ', last one unanswered' or ''))
  end
  if not write_file(out, markdown) then
    return
  end
  log(string.format('hover: %d bytes after %d tries, %d ms', #markdown, tries, elapsed_ms()))

  -- Optionally: the real hover window, as a user sees it -------------------------------------
  if float_out then
    local byte_col = col
    local ok_idx, idx = pcall(vim.lsp.util._str_byteindex_enc or function()
      error('no converter')
    end, vim.api.nvim_buf_get_lines(buf, line, line + 1, false)[1] or '', col, client.offset_encoding)
    if ok_idx and type(idx) == 'number' then
      byte_col = idx
    end
    vim.api.nvim_win_set_cursor(0, { line + 1, byte_col })
    local main_win = vim.api.nvim_get_current_win()
    vim.lsp.buf.hover()
    local float
    vim.wait(remaining(), function()
      for _, w in ipairs(vim.api.nvim_list_wins()) do
        if w ~= main_win and vim.api.nvim_win_get_config(w).relative ~= '' then
          float = w
          return true
        end
      end
      return false
    end, 20)
    if not float then
      return finish(5, 'the hover window did not open')
    end
    local lines = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(float), 0, -1, false)
    if not write_file(float_out, table.concat(lines, '\n') .. '\n') then
      return
    end
  end
  finish(0)
end, debug.traceback)

if not ok then
  finish(1, 'error: ' .. tostring(main_err))
end
