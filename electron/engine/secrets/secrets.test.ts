import { describe, expect, it } from 'vitest';
import { findSecret, secretFileKind } from './secrets.js';
import { alphabets, fakeToken } from '../test/secrets.js';

const { alphanumeric, upperAndDigits, base64, base64url, hex, digits } = alphabets;
const pemBody = Array.from({ length: 4 }, (_, i) => fakeToken(base64, 64, 40 + i)).join('\n');
const jwt = [
  Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url'),
  Buffer.from(JSON.stringify({ sub: '1234567890', name: 'Ada', iat: 1516239022 })).toString('base64url'),
  fakeToken(base64url, 43, 7),
].join('.');

const truePositives: [kind: string, text: string][] = [
  ['private key', `-----BEGIN RSA PRIVATE KEY-----\n${pemBody}\n-----END RSA PRIVATE KEY-----\n`],
  ['private key', `-----BEGIN OPENSSH PRIVATE KEY-----\r\n${pemBody}\r\n`],
  ['private key', `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,${fakeToken(hex, 32)}\n\n${pemBody}\n`],
  ['private key', `-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n${pemBody}\n`],
  ['private key', `{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\n${fakeToken(base64, 64)}\\n"}`],
  ['AWS access key id', `aws_access_key_id = AKIA${fakeToken(upperAndDigits, 16)}`],
  ['AWS access key id', `const id = "ASIA${fakeToken(upperAndDigits, 16, 2)}";`],
  ['AWS secret access key', `aws_secret_access_key=${fakeToken(base64, 40)}`],
  ['AWS secret access key', `AWS_SECRET_ACCESS_KEY: "${fakeToken(base64, 40, 3)}"`],
  ['GitHub token', `GITHUB_TOKEN = "ghp_${fakeToken(alphanumeric, 36)}"`],
  ['GitHub token', `token: gho_${fakeToken(alphanumeric, 36, 2)}`],
  ['GitHub token', `ghs_${fakeToken(alphanumeric, 36, 3)}`],
  ['GitHub token', `ghr_${fakeToken(alphanumeric, 36, 4)}`],
  ['GitHub token', `github_pat_${fakeToken(alphanumeric, 22)}_${fakeToken(alphanumeric, 59, 5)}`],
  ['GitLab token', `export GITLAB_TOKEN=glpat-${fakeToken(base64url, 20)}`],
  ['Slack token', `SLACK_BOT=xoxb-${fakeToken(digits, 12)}-${fakeToken(digits, 13, 2)}-${fakeToken(alphanumeric, 24)}`],
  ['Slack token', `xoxp-${fakeToken(digits, 11, 3)}-${fakeToken(digits, 12, 4)}-${fakeToken(hex, 32)}`],
  ['Stripe key', `stripe.api_key = "sk_live_${fakeToken(alphanumeric, 24)}"`],
  ['Stripe key', `rk_live_${fakeToken(alphanumeric, 24, 9)}`],
  ['Google API key', `const mapsKey = 'AIza${fakeToken(base64url, 35)}';`],
  ['OpenAI-style API key', `OPENAI_API_KEY=sk-${fakeToken(alphanumeric, 48)}`],
  ['OpenAI-style API key', `client = OpenAI(api_key="sk-proj-${fakeToken(base64url, 120)}")`],
  ['Anthropic API key', `ANTHROPIC_API_KEY=sk-ant-api03-${fakeToken(base64url, 93)}AA`],
  ['JWT', `Authorization: Bearer ${jwt}`],
  ['npm token', `//registry.npmjs.org/:_authToken=npm_${fakeToken(alphanumeric, 36)}`],
  ['PyPI token', `password = pypi-AgEIcHlwaS5vcmc${fakeToken(base64url, 120)}`],
  ['secret assignment', `DB_PASSWORD = "${fakeToken(alphanumeric, 24)}"`],
  ['secret assignment', `{ "apiKey": "${fakeToken(alphanumeric, 32, 2)}" }`],
  ['secret assignment', `client_secret: ${fakeToken(base64url, 40, 3)}`],
  ['secret assignment', `SECRET_KEY = '${fakeToken(hex, 64)}'`],
  ['secret assignment', `db.connect(user="app", password="${fakeToken(alphanumeric, 20, 5)}")`],
  ['secret assignment', `$auth_token => '${fakeToken(alphanumeric, 30, 6)}',`],
  ['credentials in a URL', `DATABASE_URL = "postgresql://shop:${fakeToken(alphanumeric, 12, 11)}@db.internal:5432/shop"`],
  // Word-like passwords are still passwords (spelled through a template so this file is not itself a secret).
  ['credentials in a URL', `engine = create_engine('postgresql://admin:${'Winter'}2024!@10.0.0.5/prod')`],
  ['credentials in a URL', `BROKER = "amqp://svc:${'hunter'}22@rabbit:5672//"`],
  [
    'Slack webhook URL',
    `SLACK_HOOK = "https://hooks.slack.com/services/T${fakeToken(upperAndDigits, 8, 12)}/B${fakeToken(upperAndDigits, 10, 13)}/${fakeToken(alphanumeric, 24, 14)}"`,
  ],
  ['Discord webhook URL', `hook = "https://discord.com/api/webhooks/${fakeToken(digits, 18, 15)}/${fakeToken(base64url, 68, 16)}"`],
  ['Discord bot token', `client.run("M${fakeToken(alphanumeric, 25, 17)}.${fakeToken(base64url, 6, 18)}.${fakeToken(base64url, 38, 19)}")`],
  ['Telegram bot token', `bot = telebot.TeleBot("${fakeToken(digits, 10, 20)}:AA${fakeToken(base64url, 33, 21)}")`],
  ['SendGrid API key', `sg = SendGridAPIClient("SG.${fakeToken(base64url, 22, 22)}.${fakeToken(base64url, 43, 23)}")`],
  ['Twilio API key', `TWILIO_KEY = "SK${fakeToken(hex, 32, 24)}"`],
  ['Mailgun API key', `auth=("api", "key-${fakeToken(hex, 32, 25)}")`],
  ['Hugging Face token', `login(token="hf_${fakeToken(alphanumeric, 34, 26)}")`],
  ['Shopify token', `headers = {"X-Shopify-Access-Token": "shpat_${fakeToken(hex, 32, 27)}"}`],
  ['DigitalOcean token', `DO_TOKEN = "dop_v1_${fakeToken(hex, 64, 28)}"`],
  ['Azure storage key', `conn = "DefaultEndpointsProtocol=https;AccountName=shop;AccountKey=${fakeToken(base64, 86, 29)}==;EndpointSuffix=core.windows.net"`],
  ['Square token', `SQUARE = "sq0atp-${fakeToken(base64url, 22, 30)}"`],
  ['age secret key', `AGE-SECRET-KEY-1${fakeToken('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', 58, 31)}`],
  ['Vault token', `VAULT_TOKEN = "hvs.${fakeToken(base64url, 90, 32)}"`],
  ['Databricks token', `token = "dapi${fakeToken(hex, 32, 33)}"`],
];

const lockFileIntegrity = `"integrity": "sha512-${fakeToken(base64, 86)}=="`;
const pngDataUri = `const logo = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAA${fakeToken(base64, 4000)}";`;

const trueNegatives: [why: string, text: string][] = [
  ['placeholder word', 'password = "changeme"'],
  ['placeholder in brackets', 'api_key = "<your-key>"'],
  ['shell variable', 'token: "${GITHUB_TOKEN}"'],
  ['template variable', 'password: "{{ vault_db_password_2024 }}"'],
  ['environment lookup', 'token = os.environ["GITHUB_TOKEN_FOR_CI_2"]'],
  ['environment lookup', 'const apiKey = process.env.OPENAI_API_KEY_2024;'],
  ['function call', 'password = get_password_from_vault("db-primary-2")'],
  ['masked value', 'secret = "xxxxxxxxxxxxxxxxxxxxxxxxxxxx"'],
  ['masked value', 'PASSWORD=************************'],
  ['documented placeholder', 'GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'],
  ['documented placeholder', 'OPENAI_API_KEY=sk-your-openai-api-key-goes-right-here'],
  ['AWS documentation example', 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE'],
  ['AWS documentation example', 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
  ['UUID', 'session_token = "123e4567-e89b-12d3-a456-426614174000"'],
  ['hash in a lock file', lockFileIntegrity],
  ['checksum in Cargo.lock', `checksum = "${fakeToken(hex, 64, 8)}"`],
  ['git commit id', `const commit = "${fakeToken(hex, 40, 9)}";`],
  ['bcrypt hash', 'password_hash = "$2b$12$KIXQJQhmC9x7RmW0b3YHXeA0ZkWbV9r5f3Yb8oE2y1aT6pQ9mN4rS"'],
  ['base64 image in code', pngDataUri],
  ['number of tokens', 'max_tokens = 4096'],
  ['tokenizer name', 'tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")'],
  ['sentence', 'token: "the refresh token expires after 30 days"'],
  ['CSS class after sk-', '<div class="sk-circle-bounce-animation-delay-fast"></div>'],
  ['PEM header in a parser', "if (line === '-----BEGIN PRIVATE KEY-----') return parseKey(lines);"],
  ['public key', `-----BEGIN PUBLIC KEY-----\n${pemBody}\n`],
  ['package name', 'pip install pypi-simple-index-mirror-tool'],
  ['comparison', `if token == "${fakeToken(alphanumeric, 24)}":`],
  ['identifier assigned to a token type', 'type OpeningBracketToken = OpeningBracketToken$1;'],
  ['member access', '        this.privateKey = asn1.result.privateKey2;'],
  ['made-up test key', "const apiKey = 'e2e-key-0123456789abcdef';"],
  ['URL with a documented password', 'DATABASE_URL=postgres://user:password@localhost:5432/app'],
  ['URL without a password', 'url: postgres://postgres@127.0.0.1:5432/postgres'],
  ['URL with a templated password', 'f"postgresql://{user}:{password}@{host}/{db}"'],
  ['URL with an environment password', 'redis://:${REDIS_PASSWORD}@cache:6379/0'],
  ['URL with a port, no user', 'http://localhost:8080/api'],
  ['git remote over ssh', 'git@github.com:electric-sql/pglite.git'],
  ['e-mail address', 'mailto:maintainers@example.org'],
  ['Slack webhook placeholder', 'https://hooks.slack.com/services/TXXXXXXXX/BXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXXXX'],
  ['time of day', 'at 12345678:AA in the log'],
];

describe('findSecret', () => {
  it.each(truePositives)('finds a %s (case %#)', (kind, text) => {
    expect(findSecret(text)).toEqual({ kind, line: 1 });
  });

  it.each(trueNegatives)('leaves alone a %s (case %#)', (_why, text) => {
    expect(findSecret(text)).toBeNull();
  });

  it('reports the line of the first secret and never the value', () => {
    const token = `ghp_${fakeToken(alphanumeric, 36)}`;
    const text = ['import os', '', `NPM = "npm_${fakeToken(alphanumeric, 36, 2)}"`, `GITHUB = "${token}"`].join('\n');
    const finding = findSecret(text);
    expect(finding).toEqual({ kind: 'npm token', line: 3 });
    expect(JSON.stringify(finding)).not.toContain('npm_');
  });

  it('scans a megabyte of near-miss text quickly enough to run on every file', () => {
    // Long unbroken runs of token characters are what would make a careless pattern backtrack.
    const text = `token = ${'a'.repeat(1 << 20)}`;
    expect(findSecret(text)).toBeNull();
  });
});

describe('secretFileKind', () => {
  it.each([
    ['.env', 'dotenv file'],
    ['config/.env.production', 'dotenv file'],
    ['.env.local', 'dotenv file'],
    ['deploy/prod.env', 'dotenv file'],
    ['.envrc', 'dotenv file'],
    ['home/.ssh/id_rsa', 'private key file'],
    ['id_ed25519', 'private key file'],
    ['certs/server.pem', 'private key file'],
    ['tls/server.key', 'private key file'],
    ['tls/server.crt', 'certificate'],
    ['tls/ca.cer', 'certificate'],
    ['tls/ca.der', 'certificate'],
    ['client.p12', 'keystore'],
    ['client.pfx', 'keystore'],
    ['android/release.keystore', 'keystore'],
    ['keys/backup.asc', 'PGP file'],
    ['keys/backup.gpg', 'PGP file'],
    ['vault.kdbx', 'password database'],
    ['.npmrc', 'credential file'],
    ['.pypirc', 'credential file'],
    ['.netrc', 'credential file'],
    ['.git-credentials', 'credential file'],
    ['gcp/credentials.json', 'credential file'],
    ['gcp/service-account-prod.json', 'credential file'],
    ['.htpasswd', 'credential file'],
    ['config/secrets.yml', 'credential file'],
    ['config/secrets.yaml', 'credential file'],
    ['infra/terraform.tfvars', 'terraform variables'],
    ['infra/terraform.tfstate', 'terraform state'],
    ['infra/terraform.tfstate.backup', 'terraform state'],
    ['home/.aws/credentials', 'credential file'],
    ['.docker/config.json', 'credential file'],
    ['kubeconfig', 'credential file'],
    ['.kube/config', 'credential file'],
  ])('%s is a %s', (path, kind) => {
    expect(secretFileKind(path)).toBe(kind);
  });

  it.each([
    '.env.example',
    '.env.sample',
    '.env.template',
    '.env.dist',
    'src/env.ts',
    'environment.py',
    'keyboard.ts',
    'docs/credentials.md',
    'config.json',
    'aws/config',
    'id_rsa.pub',
    'monkey.py',
    '.envoy.yaml',
  ])('%s is harmless', (path) => {
    expect(secretFileKind(path)).toBeNull();
  });
});
