package.path = package.path .. ";" .. os.getenv("BENCH_DIR") .. "/?.lua"
require("common")
request = function()
  local c = pick(customers)
  return get("/api/v1/shop/messages/" .. c.id .. "?limit=50", c.token)
end
