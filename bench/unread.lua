package.path = package.path .. ";" .. os.getenv("BENCH_DIR") .. "/?.lua"
require("common")
scenario(customers, function(c) return get("/api/v1/shop/messages/unread-count", c.token) end)
