// Preloaded into Node test peers (NODE_OPTIONS="--require .../hosts.cjs"):
// resolves the test host names to their own loopback addresses without
// touching /etc/hosts. GH_TEST_HOSTS="hub.gatehouse.test=127.0.0.2,edge.gatehouse.test=127.0.0.3"
// Any other name resolves as usual; nothing here sends traffic off loopback.
'use strict';
const dns = require('dns');
const map = new Map();
for (const item of (process.env.GH_TEST_HOSTS || '').split(',')) {
  const [name, addr] = item.split('=');
  if (name && addr) map.set(name.trim().toLowerCase(), addr.trim());
}
const original = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
  if (typeof options === 'function') { callback = options; options = {}; }
  if (typeof options === 'number') options = { family: options };
  const addr = map.get(String(hostname).toLowerCase());
  if (!addr) return original.call(dns, hostname, options, callback);
  if (options && options.all) return process.nextTick(callback, null, [{ address: addr, family: 4 }]);
  return process.nextTick(callback, null, addr, 4);
};
