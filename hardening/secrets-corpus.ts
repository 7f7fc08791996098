/**
 * The planted-secrets corpus: one realistic credential of each kind, written the way people leave
 * them in ordinary source files, built at run time (a token spelled out here would make this file
 * a secret to every scanner). `value` is what must never reach the index, an export or training data.
 */
import { alphabets, fakeToken } from '../electron/engine/test/secrets.js';

const { alphanumeric, upperAndDigits, base64, base64url, hex, digits } = alphabets;

export interface PlantedSecret {
  kind: string;
  /** A source file of the project that carries it, by an ordinary name. */
  file: string;
  /** The whole line as written in the file. */
  line: string;
  /** The secret itself. */
  value: string;
}

function planted(kind: string, file: string, value: string, line: (value: string) => string): PlantedSecret {
  return { kind, file, value, line: line(value) };
}

const jwt = () =>
  [
    Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url'),
    Buffer.from(JSON.stringify({ sub: 'svc-billing', iat: 1716239022 })).toString('base64url'),
    fakeToken(base64url, 43, 71),
  ].join('.');

/** Content-detected kinds, in ordinary files: each must be found by its content. */
export function contentSecrets(): PlantedSecret[] {
  const pem = Array.from({ length: 4 }, (_, index) => fakeToken(base64, 64, 80 + index));
  return [
    planted(
      'private key',
      'deploy/keys.py',
      pem[0]!,
      (value) => `KEY = """-----BEGIN RSA PRIVATE KEY-----\n${[value, ...pem.slice(1)].join('\n')}\n-----END RSA PRIVATE KEY-----"""`,
    ),
    planted(
      'AWS access key id',
      'aws_client.py',
      `AKIA${fakeToken(upperAndDigits, 16, 101)}`,
      (value) => `session = boto3.Session(aws_access_key_id="${value}")`,
    ),
    planted('AWS secret access key', 'aws_settings.py', fakeToken(base64, 40, 102), (value) => `aws_secret_access_key = "${value}"`),
    planted('GitHub token', 'ci/release.py', `ghp_${fakeToken(alphanumeric, 36, 103)}`, (value) => `GITHUB_TOKEN = "${value}"`),
    planted('GitLab token', 'ci/gitlab.py', `glpat-${fakeToken(base64url, 20, 104)}`, (value) => `gl = gitlab.Gitlab(private_token="${value}")`),
    planted(
      'Slack token',
      'notify/slack_bot.py',
      `xoxb-${fakeToken(digits, 12, 105)}-${fakeToken(digits, 13, 106)}-${fakeToken(alphanumeric, 24, 107)}`,
      (value) => `client = WebClient(token="${value}")`,
    ),
    planted(
      'Slack webhook URL',
      'notify/alerts.py',
      `https://hooks.slack.com/services/T${fakeToken(upperAndDigits, 8, 108)}/B${fakeToken(upperAndDigits, 10, 109)}/${fakeToken(alphanumeric, 24, 110)}`,
      (value) => `requests.post("${value}", json=payload)`,
    ),
    planted('Stripe key', 'billing/stripe_setup.py', `sk_live_${fakeToken(alphanumeric, 24, 111)}`, (value) => `stripe.api_key = "${value}"`),
    planted('Google API key', 'web/maps.js', `AIza${fakeToken(base64url, 35, 112)}`, (value) => `const mapsKey = '${value}';`),
    planted(
      'Anthropic API key',
      'ai/claude.py',
      `sk-ant-api03-${fakeToken(base64url, 93, 113)}AA`,
      (value) => `client = anthropic.Anthropic(api_key="${value}")`,
    ),
    planted('OpenAI-style API key', 'ai/openai_client.py', `sk-proj-${fakeToken(base64url, 120, 114)}`, (value) => `client = OpenAI(api_key="${value}")`),
    planted('JWT', 'api/service_auth.py', jwt(), (value) => `HEADERS = {"Authorization": "Bearer ${value}"}`),
    planted('npm token', 'scripts/publish.js', `npm_${fakeToken(alphanumeric, 36, 115)}`, (value) => `const token = '${value}';`),
    planted('PyPI token', 'scripts/upload.py', `pypi-AgEIcHlwaS5vcmc${fakeToken(base64url, 120, 116)}`, (value) => `twine_password = "${value}"`),
    planted('secret assignment', 'settings/base.py', fakeToken(alphanumeric, 40, 117), (value) => `SECRET_KEY = "${value}"`),
    planted(
      'credentials in a URL',
      'db/session.py',
      `S${fakeToken(alphanumeric, 11, 118)}`,
      (value) => `engine = create_engine("postgresql://shop:${value}@db.internal:5432/shop")`,
    ),
    planted('credentials in a URL', 'worker/celery_app.py', `${'hunter'}42`, (value) => `app = Celery("jobs", broker="amqp://svc:${value}@rabbit:5672//")`),
    planted(
      'Discord webhook URL',
      'notify/discord.py',
      `https://discord.com/api/webhooks/${fakeToken(digits, 18, 119)}/${fakeToken(base64url, 68, 120)}`,
      (value) => `WEBHOOK = "${value}"`,
    ),
    planted(
      'Discord bot token',
      'bots/discord_bot.py',
      `M${fakeToken(alphanumeric, 25, 121)}.${fakeToken(base64url, 6, 122)}.${fakeToken(base64url, 38, 123)}`,
      (value) => `client.run("${value}")`,
    ),
    planted(
      'Telegram bot token',
      'bots/telegram_bot.py',
      `${fakeToken(digits, 10, 124).replace(/^0/, '7')}:AA${fakeToken(base64url, 33, 125)}`,
      (value) => `bot = telebot.TeleBot("${value}")`,
    ),
    planted(
      'SendGrid API key',
      'mail/sendgrid_mail.py',
      `SG.${fakeToken(base64url, 22, 126)}.${fakeToken(base64url, 43, 127)}`,
      (value) => `sg = SendGridAPIClient("${value}")`,
    ),
    planted('Twilio API key', 'sms/twilio_sms.py', `SK${fakeToken(hex, 32, 128)}`, (value) => `client = Client("${value}", api_secret, account_sid)`),
    planted('Mailgun API key', 'mail/mailgun.py', `key-${fakeToken(hex, 32, 129)}`, (value) => `auth=("api", "${value}")`),
    planted('Hugging Face token', 'ml/hub.py', `hf_${fakeToken(alphanumeric, 34, 130)}`, (value) => `login(token="${value}")`),
    planted('Shopify token', 'shop/shopify_sync.py', `shpat_${fakeToken(hex, 32, 131)}`, (value) => `headers = {"X-Shopify-Access-Token": "${value}"}`),
    planted('DigitalOcean token', 'infra/droplets.py', `dop_v1_${fakeToken(hex, 64, 132)}`, (value) => `manager = digitalocean.Manager(token="${value}")`),
    planted(
      'Azure storage key',
      'storage/blobs.py',
      `${fakeToken(base64, 86, 133)}==`,
      (value) => `conn = "DefaultEndpointsProtocol=https;AccountName=shop;AccountKey=${value};EndpointSuffix=core.windows.net"`,
    ),
    planted('Square token', 'payments/square_pay.py', `sq0atp-${fakeToken(base64url, 22, 134)}`, (value) => `client = Client(access_token="${value}")`),
    planted(
      'age secret key',
      'backup/restore.py',
      `AGE-SECRET-KEY-1${fakeToken('QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L', 58, 135)}`,
      (value) => `IDENTITY = "${value}"`,
    ),
    planted('Vault token', 'infra/vault_client.py', `hvs.${fakeToken(base64url, 90, 136)}`, (value) => `client = hvac.Client(url=VAULT_URL, token="${value}")`),
    planted('Databricks token', 'analytics/jobs.py', `dapi${fakeToken(hex, 32, 137)}`, (value) => `w = WorkspaceClient(host=HOST, token="${value}")`),
  ];
}

/** Kinds told by the file's name: never opened for indexing, whatever they hold. */
export function fileSecrets(): PlantedSecret[] {
  const value = (seed: number) => fakeToken(alphanumeric, 32, seed);
  return [
    planted('dotenv file', '.env', value(201), (secret) => `DATABASE_PASSWORD=${secret}`),
    planted('dotenv file', 'config/.env.production', value(202), (secret) => `API_TOKEN=${secret}`),
    planted('private key file', 'deploy/id_ed25519', value(203), (secret) => `-----BEGIN OPENSSH PRIVATE KEY-----\n${secret}`),
    planted('private key file', 'certs/server.pem', value(204), (secret) => `-----BEGIN PRIVATE KEY-----\n${secret}`),
    planted('credential file', '.npmrc', value(205), (secret) => `//registry.npmjs.org/:_authToken=${secret}`),
    planted('credential file', 'gcp/service-account-prod.json', value(206), (secret) => `{"private_key": "${secret}"}`),
    planted('terraform state', 'infra/terraform.tfstate', value(207), (secret) => `{"password": "${secret}"}`),
  ];
}
