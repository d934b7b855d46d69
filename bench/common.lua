-- Shared by the wrk scripts: tokens (and a conversation id) from the seeding step, one random
-- caller per request, so requests spread over many accounts.
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

function pick(list)
  return list[math.random(#list)]
end

function get(path, token)
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. token })
end

function post(path, token, body)
  return wrk.format("POST", path, { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end

function setup(thread)
  math.randomseed(os.time() + tostring(thread):len())
end
