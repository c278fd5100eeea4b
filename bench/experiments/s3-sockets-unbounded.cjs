// Experiment only (BENCHMARKS.md, "Scale"): preloaded into a server child with
// --server-node-args=--require=<this file>, it lifts the 50-socket limit that
// @smithy/node-http-handler gives its http.Agent, to see whether that pool is what bounds
// our server with 200 uploads at once. Agents built with other limits are left alone.
const http = require('node:http');

const Base = http.Agent;
http.Agent = class UnboundedS3Agent extends Base {
  constructor(options) {
    super(
      options?.maxSockets === 50 ? { ...options, maxSockets: Number.POSITIVE_INFINITY } : options,
    );
  }
};
