package.path = package.path .. ";" .. os.getenv("BENCH_DIR") .. "/?.lua"
require("common")
local words = { "refund", "parcel", "invoice", "delivery", "lamp" }
request = function()
  return get("/api/v1/vendor/messages?limit=20&search=" .. words[math.random(#words)], pick(staff).token)
end
