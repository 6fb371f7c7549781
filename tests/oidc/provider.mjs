// A real OpenID Connect provider for the sign-in tests: panva's certified oidc-provider, with its
// development login form (any password) and one confidential client, the app.
//
//   cd tests/oidc && npm ci
//   OIDC_PORT=9400 OIDC_REDIRECT_URI=http://127.0.0.1:8501/oauth2callback node tests/oidc/provider.mjs
//
// Settings (environment): OIDC_PORT (default 9400), OIDC_ISSUER (default http://localhost:<port>;
// another host name than the app's keeps the two sets of cookies apart), OIDC_REDIRECT_URI (the
// app's /oauth2callback), OIDC_CLIENT_ID and OIDC_CLIENT_SECRET (defaults below, for tests only).
// It prints "ready <issuer>" once it listens.
//
// The test accounts: log in with one of these names (any password).  Their claims are what the
// provider vouches for; the app matches "email" to its users, whatever the case of its letters.

import Provider from 'oidc-provider';

const ACCOUNTS = {
  stian: { email: 'Staff@Example.ORG', email_verified: true, name: 'Stian at the provider' },
  kari: { email: 'kari@example.org', email_verified: true, name: 'Kari at the provider' },
  unverified: { email: 'lead@example.org', email_verified: false, name: 'Liv, unverified' },
  stranger: { email: 'nobody@example.org', email_verified: true, name: 'Not registered' },
  noemail: { name: 'No e-mail address' },
};

const port = Number(process.env.OIDC_PORT || 9400);
const issuer = process.env.OIDC_ISSUER || `http://localhost:${port}`;
const redirectUri = process.env.OIDC_REDIRECT_URI || 'http://127.0.0.1:8501/oauth2callback';

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: process.env.OIDC_CLIENT_ID || 'sms-messages',
      client_secret: process.env.OIDC_CLIENT_SECRET || 'sms-messages-test-secret',
      redirect_uris: [redirectUri],
      post_logout_redirect_uris: [redirectUri],
      response_types: ['code'],
      grant_types: ['authorization_code'],
    },
  ],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The app reads the claims from the ID token (Authlib's "userinfo"), so put them there.
  conformIdTokenClaims: false,
  cookies: { keys: ['only-for-the-test-provider'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    return { accountId: id, claims: async () => ({ sub: id, ...(ACCOUNTS[id] || {}) }) };
  },
});

const server = provider.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
