-- Forgets up to ARGV[1] finished jobs of a queue (see `Queue::sweep_finished`): apalis-redis's
-- acknowledgement moves a finished job's id to the done (or dead) set and writes its outcome to
-- its meta key, but keeps its payload in the data hash and the id in that set for ever.
-- KEYS[1]: the done set
-- KEYS[2]: the dead set
-- KEYS[3]: the task data hash
-- KEYS[4]: the task metadata prefix
-- ARGV[1]: most jobs to forget per set
-- ARGV[2]: seconds a finished job's meta key (status, attempts, done_at) is kept
-- Returns: the number of jobs forgotten.
local forgotten = 0
for _, set in ipairs({ KEYS[1], KEYS[2] }) do
    local ids = redis.call("spop", set, tonumber(ARGV[1]))
    for _, id in ipairs(ids) do
        redis.call("hdel", KEYS[3], id)
        redis.call("expire", KEYS[4] .. ":" .. id, tonumber(ARGV[2]))
        forgotten = forgotten + 1
    end
end
return forgotten
