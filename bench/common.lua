-- Shared by the wrk scripts: tokens (and a conversation id) from the seeding step. Each thread
-- formats every request once at start; per request it only picks one at random, so the requests
-- spread over many accounts and the load tool spends its time on the network, not in Lua.
local function load(path)
  local rows = {}
  for line in io.lines(path) do
    local token, id = line:match("^(%S+)%s*(%S*)$")
    rows[#rows + 1] = { token = token, id = id }
  end
  return rows
end

local tokens_dir = os.getenv("BENCH_TOKENS")
staff = load(tokens_dir .. "/staff_tokens.txt")
customers = load(tokens_dir .. "/customer_tokens.txt")

function get(path, token)
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

function post(path, token, body)
  return wrk.format("POST", path, { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end

-- One formatted request per row of `rows`.
function prebuild(rows, build)
  local out = {}
  for i, row in ipairs(rows) do
    out[i] = build(row)
  end
  return out
end

function pick(list)
  return list[math.random(#list)]
end

-- The common case: one kind of request, `build(row)` over `rows`.
function scenario(rows, build)
  local built
  init = function()
    built = prebuild(rows, build)
  end
  request = function()
    return pick(built)
  end
end

function setup(thread)
  math.randomseed(os.time() + tostring(thread):len())
end
