// A real OpenID provider for the SSO tests: node provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
// Any login name signs in (devInteractions); the account's claims derive from it.
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['preferred_username', 'name'],
  },
  findAccount: (ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, email: `${id}@so.example.gov.vn`, email_verified: true, preferred_username: id }),
  }),
  cookies: { keys: ['surveyapp-test-cookie-key'] },
  features: { devInteractions: { enabled: true } },
});

const server = provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
