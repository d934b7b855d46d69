package.path = package.path .. ";" .. os.getenv("BENCH_DIR") .. "/?.lua"
require("common")
-- 90% reads (inbox 30%, detail 30%, unread count 30%), 10% sends.
local send, inbox, detail, unread
init = function()
  send = prebuild(customers, function(c)
    return post("/api/v1/shop/messages/" .. c.id .. "/messages", c.token, '{"content":"Is my parcel on its way?"}')
  end)
  inbox = prebuild(staff, function(s) return get("/api/v1/vendor/messages?limit=20", s.token) end)
  detail = prebuild(customers, function(c) return get("/api/v1/shop/messages/" .. c.id .. "?limit=50", c.token) end)
  unread = prebuild(customers, function(c) return get("/api/v1/shop/messages/unread-count", c.token) end)
end
request = function()
  local r = math.random(100)
  if r <= 10 then
    return pick(send)
  elseif r <= 40 then
    return pick(inbox)
  elseif r <= 70 then
    return pick(detail)
  else
    return pick(unread)
  end
end
