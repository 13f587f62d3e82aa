-- Moves up to ARGV[2] jobs whose time has come from a queue's scheduled set to its active list,
-- as apalis-redis's own fetch does, but a bounded number at a time (see `Queue::promote_due`).
-- KEYS[1]: the scheduled jobs sorted set
-- KEYS[2]: the active job list
-- KEYS[3]: the signal list
-- ARGV[1]: now (unix seconds)
-- ARGV[2]: most jobs to move
-- Returns: the number of jobs moved.
local ids = redis.call("zrangebyscore", KEYS[1], 0, ARGV[1], "LIMIT", 0, tonumber(ARGV[2]))
if #ids > 0 then
    redis.call("rpush", KEYS[2], unpack(ids))
    redis.call("zrem", KEYS[1], unpack(ids))
    redis.call("del", KEYS[3])
    redis.call("lpush", KEYS[3], 1)
end
return #ids
