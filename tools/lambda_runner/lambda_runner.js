#!/usr/bin/env node
// Serves the AWS Lambda Invoke API for Node handlers, so trigger code written for
// Lambda (`exports.handler = async (event, context) => …`, or a callback handler) runs
// unchanged against cognate (`serve --lambda-endpoint http://127.0.0.1:PORT`). Plain
// `node`, no npm packages.
//
//   node tools/lambda_runner/lambda_runner.js --port 3001 pre-signup=./handlers.js:handler
//
// A handler that throws (or calls back with an error) answers as Lambda does: status
// 200, `X-Amz-Function-Error: Unhandled` and `{"errorMessage", "errorType"}`.
'use strict';
const http = require('http');
const path = require('path');

const PREFIX = '/2015-03-31/functions/';
const args = process.argv.slice(2);
let port = 3001;
let host = '127.0.0.1';
const functions = {};
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port') port = Number(args[++i]);
  else if (args[i] === '--host') host = args[++i];
  else {
    const [name, spec] = args[i].split(/=(.*)/s);
    const at = spec.lastIndexOf(':');
    const mod = require(path.resolve(spec.slice(0, at)));
    functions[name] = mod[spec.slice(at + 1)];
    if (typeof functions[name] !== 'function') throw new Error(`${spec}: no such function`);
  }
}

function invoke(fn, event, context) {
  return new Promise((resolve, reject) => {
    const done = (err, value) => (err ? reject(err) : resolve(value));
    try {
      const out = fn(event, context, done);
      if (out && typeof out.then === 'function') out.then(resolve, reject);
    } catch (e) {
      reject(e);
    }
  });
}

function send(res, status, body, headers = {}) {
  const data = Buffer.from(JSON.stringify(body === undefined ? null : body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length, ...headers });
  res.end(data);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const p = req.url.split('?')[0];
    if (req.method !== 'POST' || !p.startsWith(PREFIX) || !p.endsWith('/invocations')) {
      return send(res, 404, { Type: 'User', message: 'Unknown path' });
    }
    let name = decodeURIComponent(p.slice(PREFIX.length, -'/invocations'.length));
    if (name.startsWith('arn:')) name = name.split(':').pop();
    const fn = functions[name];
    if (!fn) return send(res, 404, { Type: 'User', message: `Function not found: ${name}` });
    const context = {
      functionName: name,
      awsRequestId: require('crypto').randomUUID(),
      getRemainingTimeInMillis: () => 5000,
    };
    try {
      const event = JSON.parse(Buffer.concat(chunks).toString() || 'null');
      send(res, 200, await invoke(fn, event, context));
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      send(res, 200, { errorMessage: err.message, errorType: err.name },
        { 'X-Amz-Function-Error': 'Unhandled' });
    }
  });
});
server.listen(port, host, () => console.log(`listening on ${server.address().port}`));
