// A loopback Sigstore stack for modelsign's keyless-signing tests: Fulcio, Rekor v1, a
// timestamp authority and an OIDC issuer on one 127.0.0.1 port, built on the Sigstore
// project's own @sigstore/mock handlers.
//
//   node server.js --out DIR [--lifetime SECONDS]
//
// Writes DIR/trusted_root.json, DIR/signing_config.json, DIR/trust_config.json (a
// ClientTrustConfig holding both) and DIR/identity_token (a JWT for signer@modelsign.test
// issued by this stack), then prints one JSON line {"url", "dir", "identity", "issuer"} on
// stdout. It exits by itself after --lifetime seconds (default 600), or when its stdin
// closes, so a test that dies never leaves it running.
//
// The mock handlers are thinner than the real services; where a real client's request, or
// a real log's stored entry, differs from what they take, this server adapts it so the
// stack behaves like the real services for every client (sigstore-python, sigstore-rust):
//  - Fulcio: the identity token may come as an `Authorization: Bearer` header and the CSR
//    as base64 of its PEM (sigstore-python); the handler wants both in the JSON body.
//  - Rekor v1: a `dsse` entry is stored the way Rekor stores it (envelope hash, payload
//    hash, signatures with their verifier), not as the submitted envelope.
//  - TSA: real clients send a DER RFC 3161 request; the handler takes JSON, and the reply
//    must echo the request's nonce exactly (the handler only knows JS numbers). Its genTime
//    carries milliseconds, which strict DER decoders (sigstore-rust's) refuse; Sigstore's
//    timestamp authority writes whole seconds, and so does this one.
//  - OIDC: sigstore-python discovers the issuer's endpoints before signing.
//  - Fulcio verifies the identity token's signature with its issuer's key; the mock only
//    reads the claims. Tokens this stack did not sign are refused, as Fulcio would.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');
const jose = require('jose');
const pkijs = require('pkijs');
const mock = require('@sigstore/mock');

const IDENTITY = 'signer@modelsign.test';

function parseArgs(argv) {
  const args = { out: null, lifetime: 600 };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--out') args.out = argv[++i];
    else if (argv[i] === '--lifetime') args.lifetime = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!args.out) throw new Error('--out DIR is required');
  if (!(args.lifetime > 0)) throw new Error('--lifetime must be a positive number of seconds');
  return args;
}

const base64 = (bytes) => Buffer.from(bytes).toString('base64');
const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest();
const pemCertificate = (der) =>
  `-----BEGIN CERTIFICATE-----\n${base64(der).match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

// Rekor stores a dsse entry as hashes and signatures; verifiers compare against that.
function canonicalDsseEntry(proposed) {
  const { envelope, verifiers } = proposed.spec.proposedContent;
  const parsed = JSON.parse(envelope);
  // Rekor re-encodes the verifier's PEM; clients recompute it the same way.
  const verifierPem = Buffer.from(verifiers[0], 'base64').toString('utf8');
  const der = Buffer.from(verifierPem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
  const verifier = base64(pemCertificate(der));
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256(envelope).toString('hex') },
      payloadHash: {
        algorithm: 'sha256',
        value: sha256(Buffer.from(parsed.payload, 'base64')).toString('hex'),
      },
      signatures: parsed.signatures.map((s) => ({ signature: s.sig, verifier })),
    },
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(args.out, { recursive: true });

  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;

  const keyPair = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ctLog = await mock.initializeCTLog(keyPair);
  const ca = await mock.initializeCA(keyPair, ctLog);
  const fulcio = mock.fulcioHandler(ca, { subjectClaim: 'email' });
  const tlog = await mock.initializeTLog(url, keyPair);
  const rekor = mock.rekorHandler(tlog);
  const tsa = await mock.initializeTSA(keyPair);
  // The handler builds TSTInfo from a JS-number nonce; put the request's own INTEGER back,
  // and give genTime whole seconds.
  let requestNonce = null;
  const buildTstInfo = tsa.tstInfo.bind(tsa);
  tsa.tstInfo = (request) => {
    const info = buildTstInfo(request);
    if (requestNonce) info.nonce = requestNonce;
    info.genTime = new Date(Math.floor(info.genTime.getTime() / 1000) * 1000);
    return info;
  };

  // Valid from an hour ago: clients drop services and keys whose window has not started.
  const start = new Date(Date.now() - 3600 * 1000).toISOString();
  const logKey = (spki) => ({
    baseUrl: url,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: base64(spki), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
    logId: { keyId: base64(sha256(Buffer.from(spki))) },
  });
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [logKey(tlog.publicKey)],
    certificateAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: url,
        certChain: { certificates: [{ rawBytes: base64(ca.rootCertificate) }] },
        validFor: { start },
      },
    ],
    ctlogs: [logKey(ctLog.publicKey)],
    timestampAuthorities: [
      {
        subject: { organization: 'sigstore.mock', commonName: 'tsa' },
        uri: `${url}/api/v1/timestamp`,
        certChain: {
          certificates: [tsa.intCertificate, tsa.rootCertificate].map((c) => ({ rawBytes: base64(c) })),
        },
        validFor: { start },
      },
    ],
  };
  const service = (serviceUrl) => ({
    url: serviceUrl,
    majorApiVersion: 1,
    validFor: { start },
    operator: 'modelsign.test',
  });
  const signingConfig = {
    mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
    caUrls: [service(url)],
    oidcUrls: [service(url)],
    rekorTlogUrls: [service(url)],
    tsaUrls: [service(`${url}/api/v1/timestamp`)],
    rekorTlogConfig: { selector: 'ANY' },
    tsaConfig: { selector: 'ANY' },
  };
  const write = (name, value) =>
    fs.writeFileSync(path.join(args.out, name), `${JSON.stringify(value, null, 2)}\n`);
  write('trusted_root.json', trustedRoot);
  write('signing_config.json', signingConfig);
  write('trust_config.json', {
    mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json',
    trustedRoot,
    signingConfig,
  });

  // An identity token as an OIDC provider would issue it, signed with a key published at
  // /keys; the mock Fulcio reads its claims (email -> SAN, iss -> issuer extension).
  const tokenKey = await jose.importPKCS8(
    keyPair.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    'ES256',
  );
  const now = Math.floor(Date.now() / 1000);
  const token = await new jose.SignJWT({ email: IDENTITY, email_verified: true })
    .setProtectedHeader({ alg: 'ES256', kid: 'stack' })
    .setIssuer(url)
    .setSubject(IDENTITY)
    .setAudience('sigstore')
    .setIssuedAt(now)
    .setNotBefore(now - 60)
    .setExpirationTime(now + args.lifetime)
    .sign(tokenKey);
  fs.writeFileSync(path.join(args.out, 'identity_token'), token);
  const jwk = { ...keyPair.publicKey.export({ format: 'jwk' }), kid: 'stack', alg: 'ES256', use: 'sig' };

  server.on('request', async (request, response) => {
    const send = (status, body, type) => {
      response.writeHead(status, { 'Content-Type': type });
      response.end(body);
    };
    const reply = (result) =>
      send(result.statusCode, result.response, result.contentType || 'application/json');
    try {
      const body = await readBody(request);
      const route = `${request.method} ${request.url.split('?')[0]}`;
      if (route === 'GET /.well-known/openid-configuration') {
        return send(200, JSON.stringify({
          issuer: url,
          authorization_endpoint: `${url}/auth`,
          token_endpoint: `${url}/token`,
          jwks_uri: `${url}/keys`,
          response_types_supported: ['code'],
          id_token_signing_alg_values_supported: ['ES256'],
        }), 'application/json');
      }
      if (route === 'GET /keys') {
        return send(200, JSON.stringify({ keys: [jwk] }), 'application/json');
      }
      if (route === `POST ${fulcio.path}`) {
        const json = JSON.parse(body.toString('utf8'));
        const auth = request.headers.authorization || '';
        if (!json.credentials && auth.startsWith('Bearer ')) {
          json.credentials = { oidcIdentityToken: auth.slice('Bearer '.length) };
        }
        // Like Fulcio, accept only tokens its trusted issuer (this stack) really signed.
        const token = json.credentials && json.credentials.oidcIdentityToken;
        try {
          await jose.jwtVerify(token || '', keyPair.publicKey, { issuer: url, audience: 'sigstore' });
        } catch (error) {
          return send(401, JSON.stringify({
            code: 16,
            message: `There was an error processing the identity token: ${error.message}`,
          }), 'application/json');
        }
        const csr = json.certificateSigningRequest;
        if (typeof csr === 'string' && !csr.includes('-----BEGIN')) {
          json.certificateSigningRequest = Buffer.from(csr, 'base64').toString('utf8');
        }
        return reply(await fulcio.fn(JSON.stringify(json)));
      }
      if (route === `POST ${rekor.path}`) {
        let entry = JSON.parse(body.toString('utf8'));
        if (entry.kind === 'dsse' && entry.spec && entry.spec.proposedContent) {
          entry = canonicalDsseEntry(entry);
        }
        return reply(await rekor.fn(JSON.stringify(entry)));
      }
      if (route === 'POST /api/v1/timestamp') {
        const der = new Uint8Array(body).buffer;
        const query = pkijs.TimeStampReq.fromBER(der);
        requestNonce = query.nonce || null;
        try {
          const reply = await tsa.timestamp({
            artifactHash: Buffer.from(query.messageImprint.hashedMessage.valueBlock.valueHexView),
            hashAlgorithmOID: query.messageImprint.hashAlgorithm.algorithmId,
            nonce: 0,
            policyOID: query.reqPolicy || '1.3.6.1.4.1.57264.2',
            certReq: Boolean(query.certReq),
          });
          return send(201, Buffer.from(reply), 'application/timestamp-reply');
        } finally {
          requestNonce = null;
        }
      }
      return send(404, `no route for ${route}`, 'text/plain');
    } catch (error) {
      return send(400, String((error && error.message) || error), 'text/plain');
    }
  });

  const stop = () => {
    server.close();
    process.exit(0);
  };
  setTimeout(stop, args.lifetime * 1000).unref();
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
  process.stdout.write(`${JSON.stringify({ url, dir: args.out, identity: IDENTITY, issuer: url })}\n`);
}

main().catch((error) => {
  process.stderr.write(`sigstore-stack: ${(error && error.stack) || error}\n`);
  process.exit(1);
});
