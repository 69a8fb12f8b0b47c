/**
 * The shared tier's Lua scripts, each one round trip. A request's keys (`<address>`, `<address>:gen`,
 * `<address>:lock`) share the address's hash tag, so each script names keys of one Redis Cluster slot; the fleet's
 * log is a key of its own and is only ever named alone.
 */

/**
 * Reads a request's value and generation, and takes its lock when there is no value, or only the one the caller
 * found unusable. KEYS: value, generation, lock. ARGV: lock token, lock life (ms), the unusable value (or '').
 * Answers `[value or '', generation, locked]`: 1 when locked, 0 when another holds the lock (or it was not tried),
 * -1 when Redis refused it (`OOM`: the value read still counts).
 */
export const READ_AND_LOCK = `
local value = redis.call('get', KEYS[1])
local generation = redis.call('get', KEYS[2]) or '0'
local locked = 0
if not value or value == ARGV[3] then
  local answer = redis.pcall('set', KEYS[3], ARGV[1], 'PX', ARGV[2], 'NX')
  if type(answer) == 'table' and answer.ok then locked = 1 elseif type(answer) == 'table' and answer.err then locked = -1 end
end
return {value or '', generation, locked}`;

/** Reads a request's value and generation. KEYS: value, generation. Answers `[value or '', generation]`. */
export const READ = `return {redis.call('get', KEYS[1]) or '', redis.call('get', KEYS[2]) or '0'}`;

/**
 * Stores a fetched value only if no invalidation came since it was read (the generation is unchanged), announces it,
 * and releases the lock by its token — even when Redis refuses the value (`OOM`). KEYS: value, generation, lock.
 * ARGV: generation read, sealed value, its life (ms), lock token, channel, message. Answers 1 when stored.
 */
export const STORE_AND_RELEASE = `
local stored = 0
if (redis.call('get', KEYS[2]) or '0') == ARGV[1] then
  local answer = redis.pcall('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
  if type(answer) == 'table' and answer.ok then
    stored = 1
    redis.call('publish', ARGV[5], ARGV[6])
  end
end
if redis.call('get', KEYS[3]) == ARGV[4] then redis.call('del', KEYS[3]) end
return stored`;

/** Extends a lock only while its holder has it. KEYS: lock. ARGV: token, life (ms). */
export const RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

/** Deletes KEYS[1] only while it holds ARGV[1]: a lock is released only by its holder. */
export const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * Invalidates a request at one address: deletes its value and bumps its generation, so no value read or sealed
 * before is stored or adopted again. With an expected value, only while the address still holds it. KEYS: value,
 * generation. ARGV: the generation's life (ms), the expected value (or '' for any). Answers 1 when it invalidated.
 */
export const INVALIDATE = `
if ARGV[2] ~= '' and redis.call('get', KEYS[1]) ~= ARGV[2] then return 0 end
redis.call('del', KEYS[1])
redis.call('incr', KEYS[2])
redis.call('pexpire', KEYS[2], ARGV[1])
return 1`;

/**
 * Appends an invalidation to the fleet's log (a capped stream) and wakes the listeners. KEYS: log. ARGV: most
 * entries kept, address, origin, instance, access key tag (or ''), channel, the log's life (ms), the addresses it
 * covers (space-separated). Answers the entry id.
 */
export const APPEND = `
local id = redis.call('xadd', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'a', ARGV[2], 'o', ARGV[3], 'i', ARGV[4], 't', ARGV[5], 'c', ARGV[8])
redis.call('pexpire', KEYS[1], ARGV[7])
redis.call('publish', ARGV[6], 'log')
return id`;

/**
 * The log's entries after an id (exclusive; '': from a look-back before Redis's own clock, for an instance that has
 * not read yet), and its oldest entry once it is full (it keeps at least the cap when trimmed): when that comes after
 * the id, the log was trimmed past it. KEYS: log. ARGV: id or '', most entries read, the log's cap, the look-back
 * (ms). Answers `[oldest id or '', [[id, [field, value…]]…], the id read after]`.
 */
export const READ_LOG = `
local from = ARGV[1]
if from == '' then
  local now = redis.call('time')
  from = string.format('%.0f', math.max(0, tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[4]))) .. '-0'
end
local oldest = ''
if redis.call('xlen', KEYS[1]) >= tonumber(ARGV[3]) then oldest = redis.call('xrange', KEYS[1], '-', '+', 'COUNT', 1)[1][1] end
return {oldest, redis.call('xrange', KEYS[1], '(' .. from, '+', 'COUNT', ARGV[2]), from}`;
