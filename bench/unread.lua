package.path = package.path .. ";" .. os.getenv("BENCH_DIR") .. "/?.lua"
require("common")
request = function() return get("/api/v1/shop/messages/unread-count", pick(customers).token) end
