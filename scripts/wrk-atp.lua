-- wrk: GET /v1/atp for a random (node, SKU) of the positions `fulcrum bench --op atp` stocks.
math.randomseed(7)
request = function()
  local node = "BENCH-N" .. math.random(0, 9)
  local sku = "BENCH-S" .. math.random(0, 99)
  return wrk.format("GET", "/v1/atp?sku=" .. sku .. "&node=" .. node)
end
