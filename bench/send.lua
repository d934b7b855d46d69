package.path = package.path .. ";" .. os.getenv("BENCH_DIR") .. "/?.lua"
require("common")
scenario(customers, function(c)
  return post("/api/v1/shop/messages/" .. c.id .. "/messages", c.token, '{"content":"Is my parcel on its way?"}')
end)
