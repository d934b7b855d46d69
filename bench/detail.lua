package.path = package.path .. ";" .. os.getenv("BENCH_DIR") .. "/?.lua"
require("common")
scenario(customers, function(c) return get("/api/v1/shop/messages/" .. c.id .. "?limit=50", c.token) end)
