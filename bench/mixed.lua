package.path = package.path .. ";" .. os.getenv("BENCH_DIR") .. "/?.lua"
require("common")
request = function()
  local r = math.random(100)
  local c = pick(customers)
  if r <= 10 then
    return post("/api/v1/shop/messages/" .. c.id .. "/messages", c.token, '{"content":"Is my parcel on its way?"}')
  elseif r <= 40 then
    return get("/api/v1/vendor/messages?limit=20", pick(staff).token)
  elseif r <= 70 then
    return get("/api/v1/shop/messages/" .. c.id .. "?limit=50", c.token)
  else
    return get("/api/v1/shop/messages/unread-count", c.token)
  end
end
