package.path = package.path .. ";" .. os.getenv("BENCH_DIR") .. "/?.lua"
require("common")
scenario(staff, function(s) return get("/api/v1/vendor/messages?limit=20", s.token) end)
