// The CIBA peer for ID Desk's acceptance tests: node `oidc-provider` (panva, OpenID Certified),
// configured for CIBA poll mode, on loopback only. We did not write the protocol side of it: the
// backchannel endpoint, token endpoint, client authentication, ID tokens and userinfo are
// oidc-provider's own. What this file adds is what a real deployment adds too (accounts, how a
// login hint names one, how the customer's device is reached) plus a test-only control API that
// plays the customer's device:
//
//   GET  /_test/pending?login_hint=H   the pending request for H (binding message, params) or 404
//   POST /_test/approve  {login_hint}  the customer approves (a Grant, as a real device would)
//   POST /_test/deny     {login_hint}  the customer declines (access_denied)
//   POST /_test/decline_call {login_hint}  a phone authentication's customer says they are not
//                                     in a call (access_denied, error_description userDeclinedCall)
//   POST /_test/slow_down {login_hint, times}  the next `times` token polls for H answer slow_down
//   POST /_test/forge    {login_hint, how}  the ID token for H is tampered with on its way out
//                                     (how = "claims": payload changed, signature kept; "none": alg none)
//   GET  /_test/polls?login_hint=H     the times (ms since epoch) of every token poll for H
//   GET  /_test/stats                  {backchannel: N, token: N} requests received so far
//
// Input: one JSON line on stdin: {"clients": [oidc-provider client metadata...], "interval": N?}.
// Output: one JSON line on stdout, {"issuer": "http://127.0.0.1:PORT"}, once listening.

import { createServer } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(await readLine(process.stdin));

// The customers. `sub` is what the provider calls them; login hints name them by national
// identity number or by user name.
const ACCOUNTS = {
  kari: {
    hints: ['29124815345', 'nin:29124815345', 'kari'],
    claims: {
      name: 'Kari Nordmann', given_name: 'Kari', family_name: 'Nordmann',
      birthdate: '1948-12-29', 'signicat.national_id': '29124815345',
    },
  },
  anna: {
    hints: ['198304062717', 'anna'],
    claims: {
      name: 'Anna Andersson', given_name: 'Anna', family_name: 'Andersson',
      birthdate: '1983-04-06', 'signicat.national_id': '198304062717',
    },
  },
};
const accountByHint = new Map(
  Object.entries(ACCOUNTS).flatMap(([sub, a]) => a.hints.map((h) => [h, sub])),
);

// Pending requests by the hint that started them, and what the control API asked for.
const pending = new Map(); // hint -> {id, binding_message, params}
const slowDowns = new Map(); // auth_req_id -> remaining count
const forged = new Map(); // auth_req_id -> how
const polls = new Map(); // hint -> [ms]
const hintOfRequest = new Map(); // auth_req_id -> hint
const stats = { backchannel: 0, token: 0 };

const CALLER_RESOURCE = 'urn:id-desk:caller-authentication';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'ciba-peer-1', use: 'sig', alg: 'RS256' };

let issuer = 'http://127.0.0.1:0';
const server = createServer();
server.listen(0, '127.0.0.1');
await once(server, 'listening');
issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: [signingKey] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'birthdate', 'signicat.national_id'],
  },
  findAccount: async (_ctx, sub) => {
    const account = ACCOUNTS[sub];
    if (!account) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...account.claims }) };
  },
  features: {
    devInteractions: { enabled: false },
    // oidc-provider ties authorization details to a resource; caller authentication names none,
    // so a request that carries details is defaulted to this one (it grants nothing).
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx) => (ctx.oidc.params?.authorization_details ? CALLER_RESOURCE : undefined),
      getResourceServerInfo: async () => ({ scope: '', accessTokenFormat: 'opaque' }),
      useGrantedResource: async () => false,
    },
    // Idura's caller authentication rides on RFC 9396: `authorization_details`
    // [{"type":"phoneAuth","callInitiator":"RP"|"user"}]. oidc-provider parses and checks the
    // parameter (JSON, array, known type); the type's own rule is this validate.
    richAuthorizationRequests: {
      enabled: true,
      types: {
        phoneAuth: {
          validate: async (_ctx, detail) => {
            const extra = Object.keys(detail).filter((k) => !['type', 'callInitiator'].includes(k));
            if (!['RP', 'user'].includes(detail.callInitiator) || extra.length) {
              throw new errors.InvalidAuthorizationDetails('phoneAuth needs callInitiator RP or user, and nothing else');
            }
          },
        },
      },
      // CIBA keeps the details on the request (params); nothing is carried into tokens here.
      authorizationDetailsForGrantSource: async () => undefined,
      authorizationDetailsForAccessToken: async () => undefined,
      authorizationDetailsForIntrospection: async () => undefined,
    },
    ciba: {
      enabled: true,
      deliveryModes: ['poll'],
      processLoginHint: async (_ctx, loginHint) => accountByHint.get(loginHint),
      // A login_hint_token here is an unsigned JWT whose `sub` is the hint: enough to prove the
      // desk passes it through untouched (a real bank would sign and check it).
      processLoginHintToken: async (_ctx, token) => {
        try {
          const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
          return accountByHint.get(payload.sub);
        } catch {
          throw new errors.InvalidRequest('unreadable login_hint_token');
        }
      },
      // BankID shows the message in the app: Norwegian and Swedish letters and spaces belong in
      // it. oidc-provider's default allows ASCII without spaces only.
      validateBindingMessage: async (_ctx, message) => {
        if (message !== undefined && !/^[\p{L}\p{N} .,\-!?#+/_]{1,20}$/u.test(message)) {
          throw new errors.InvalidBindingMessage('binding_message must be 1-20 letters, digits or spaces');
        }
      },
      validateRequestContext: async () => {},
      verifyUserCode: async () => {},
      triggerAuthenticationDevice: async (ctx, request) => {
        const hint = request.params.login_hint
          ?? `token:${ACCOUNTS[request.accountId]?.hints.at(-1)}`;
        pending.set(hint, { id: request.jti, binding_message: request.params.binding_message, params: request.params });
        hintOfRequest.set(request.jti, hint);
      },
    },
  },
  ttl: {
    // requested_expiry is honoured up to 10 minutes, as oidc-provider's own default does.
    BackchannelAuthenticationRequest: (ctx) => {
      const asked = Number(ctx?.oidc?.params?.requested_expiry);
      return Number.isSafeInteger(asked) && asked > 0 ? Math.min(asked, 600) : 600;
    },
  },
});
provider.proxy = false;

// Around oidc-provider, not inside it: the poll interval it advertises, the slow_down and forged
// answers the control API asked for, and the poll log.
provider.use(async (ctx, next) => {
  const isToken = ctx.path === '/token' && ctx.method === 'POST';
  if (ctx.path === '/backchannel' && ctx.method === 'POST') stats.backchannel += 1;
  if (isToken) {
    stats.token += 1;
    const body = await readBody(ctx.req);
    const form = new URLSearchParams(body);
    // oidc-provider reads an already-read body from here (its documented fallback).
    ctx.req.body = body;
    const id = form.get('auth_req_id');
    const hint = id && hintOfRequest.get(id);
    if (hint) polls.set(hint, [...(polls.get(hint) ?? []), Date.now()]);
    const slow = id && slowDowns.get(id);
    if (slow) {
      slowDowns.set(id, slow - 1);
      ctx.status = 400;
      ctx.body = { error: 'slow_down', error_description: 'poll less often' };
      return;
    }
    await next();
    const how = id && forged.get(id);
    if (how && ctx.body?.id_token) ctx.body = { ...ctx.body, id_token: forge(ctx.body.id_token, how) };
    return;
  }
  await next();
  if (ctx.path === '/backchannel' && ctx.status === 200 && config.interval) {
    ctx.body = { ...ctx.body, interval: config.interval };
  }
});

server.on('request', async (req, res) => {
  const url = new URL(req.url, issuer);
  if (!url.pathname.startsWith('/_test/')) return provider.callback()(req, res);
  try {
    const answer = await control(req, url);
    res.writeHead(answer ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer ?? { error: 'not_found' }));
  } catch (e) {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: String(e?.message ?? e) }));
  }
});

async function control(req, url) {
  const body = req.method === 'POST' ? JSON.parse((await readBody(req)) || '{}') : {};
  const hint = body.login_hint ?? url.searchParams.get('login_hint');
  const p = pending.get(hint);
  switch (url.pathname) {
    case '/_test/pending':
      return p && { auth_req_id: p.id, binding_message: p.binding_message, params: p.params };
    case '/_test/polls':
      return { polls: polls.get(hint) ?? [] };
    case '/_test/stats':
      return stats;
    case '/_test/slow_down':
      if (!p) return undefined;
      slowDowns.set(p.id, body.times ?? 1);
      return { ok: true };
    case '/_test/forge':
      if (!p) return undefined;
      forged.set(p.id, body.how ?? 'claims');
      return { ok: true };
    case '/_test/approve': {
      if (!p) return undefined;
      const request = await provider.BackchannelAuthenticationRequest.find(p.id);
      const grant = new provider.Grant({ accountId: request.accountId, clientId: request.clientId });
      grant.addOIDCScope(request.scope);
      await grant.save();
      await provider.backchannelResult(request, grant, { acr: 'urn:eidas:loa:high', authTime: Math.floor(Date.now() / 1000) });
      pending.delete(hint);
      return { ok: true };
    }
    case '/_test/decline_call': {
      if (!p) return undefined;
      const request = await provider.BackchannelAuthenticationRequest.find(p.id);
      // Set directly: backchannelResult() writes `error_description`, but the request model
      // keeps `errorDescription` (oidc-provider 9.13.3), so the description would be lost.
      Object.assign(request, { error: 'access_denied', errorDescription: 'userDeclinedCall' });
      await request.save();
      pending.delete(hint);
      return { ok: true };
    }
    case '/_test/deny': {
      if (!p) return undefined;
      const request = await provider.BackchannelAuthenticationRequest.find(p.id);
      await provider.backchannelResult(request, new errors.AccessDenied('the customer declined'));
      pending.delete(hint);
      return { ok: true };
    }
    default:
      return undefined;
  }
}

function forge(jwt, how) {
  const [header, payload, signature] = jwt.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  if (how === 'none') {
    const h = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    return `${h}.${payload}.`;
  }
  claims.sub = 'someone-else';
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { data += c; });
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

async function readLine(stream) {
  let data = '';
  // Keep stdin open after the first line: its end tells us the harness is gone.
  for await (const chunk of stream.iterator({ destroyOnReturn: false })) {
    data += chunk;
    if (data.includes('\n')) break;
  }
  return data.split('\n')[0];
}

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
// The test harness closes our stdin when it is done: leave then, never outlive it.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
