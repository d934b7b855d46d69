package.path = package.path .. ";" .. os.getenv("BENCH_DIR") .. "/?.lua"
require("common")
-- The words written by the seeding step (from a frequent one to rare ones), on every staff token.
local words = {}
for line in io.lines(os.getenv("BENCH_TOKENS") .. "/search_words.txt") do
  words[#words + 1] = line:match("^(%S+)")
end
local rows = {}
for _, s in ipairs(staff) do
  for _, w in ipairs(words) do
    rows[#rows + 1] = { token = s.token, word = w }
  end
end
scenario(rows, function(r) return get("/api/v1/vendor/messages?limit=20&search=" .. r.word, r.token) end)
