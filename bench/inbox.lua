package.path = package.path .. ";" .. os.getenv("BENCH_DIR") .. "/?.lua"
require("common")
request = function() return get("/api/v1/vendor/messages?limit=20", pick(staff).token) end
