/**
 * Retrieval puts file contents into prompts, logs and the database, so a secret that reaches the
 * index leaks in all three. Files are ruled out twice: by name before they are read (a `.env` or a
 * private key is never opened for indexing) and by content after (a token pasted into
 * `config.py`). Both lists favour recall on well-known shapes and precision on generic ones: a
 * token with a vendor prefix is always a secret, a value merely assigned to `password` must also
 * look random.
 */

/**
 * Changes whenever the rules below find more: an index checked with older rules is checked again
 * (rag/indexer.ts), so a secret they missed does not stay in it.
 */
export const secretRulesVersion = '2';

export interface SecretFinding {
  /** What was found, never the value itself: it ends up in logs and skip reports. */
  kind: string;
  /** 1-based. */
  line: number;
}

/**
 * Templates document which variables exist and are worth indexing; they still go through
 * `findSecret` like every file, which catches the real values people sometimes leave in them.
 */
const envTemplates = new Set(['.env.example', '.env.sample', '.env.template', '.env.dist']);

const secretNames = new Map<string, string>([
  ['.env', 'dotenv file'],
  ['.envrc', 'dotenv file'],
  ['.npmrc', 'credential file'],
  ['.pypirc', 'credential file'],
  ['.netrc', 'credential file'],
  ['_netrc', 'credential file'],
  ['.pgpass', 'credential file'],
  ['.git-credentials', 'credential file'],
  ['.htpasswd', 'credential file'],
  ['credentials.json', 'credential file'],
  ['secrets.yml', 'credential file'],
  ['secrets.yaml', 'credential file'],
  ['secrets.json', 'credential file'],
  ['kubeconfig', 'credential file'],
  ['id_rsa', 'private key file'],
  ['id_dsa', 'private key file'],
  ['id_ecdsa', 'private key file'],
  ['id_ed25519', 'private key file'],
]);

const secretExtensions = new Map<string, string>([
  ['.env', 'dotenv file'],
  ['.pem', 'private key file'],
  ['.key', 'private key file'],
  ['.p12', 'keystore'],
  ['.pfx', 'keystore'],
  ['.jks', 'keystore'],
  ['.keystore', 'keystore'],
  ['.crt', 'certificate'],
  ['.cer', 'certificate'],
  ['.der', 'certificate'],
  ['.asc', 'PGP file'],
  ['.gpg', 'PGP file'],
  ['.kdbx', 'password database'],
  ['.tfvars', 'terraform variables'],
  ['.tfstate', 'terraform state'],
]);

/** Files whose meaning comes from their folder: `config` alone is harmless. */
const secretPathSuffixes = new Map<string, string>([
  ['.aws/credentials', 'credential file'],
  ['.docker/config.json', 'credential file'],
  ['.kube/config', 'credential file'],
]);

/** Why a file must not be read, judged by its POSIX-style path alone; null when its name is harmless. */
export function secretFileKind(path: string): string | null {
  const lower = path.toLowerCase();
  const name = lower.slice(lower.lastIndexOf('/') + 1);
  const byName = secretNames.get(name);
  if (byName) return byName;
  if (name.startsWith('.env.')) return envTemplates.has(name) ? null : 'dotenv file';
  if (name.startsWith('service-account') && name.endsWith('.json')) return 'credential file';
  if (name.includes('.tfstate')) return 'terraform state';
  const dot = name.lastIndexOf('.');
  const byExtension = dot > 0 ? secretExtensions.get(name.slice(dot)) : undefined;
  if (byExtension) return byExtension;
  for (const [suffix, kind] of secretPathSuffixes) {
    if (lower === suffix || lower.endsWith(`/${suffix}`)) return kind;
  }
  return null;
}

/** Bits per character: random tokens sit near log2 of their alphabet, words and repeats far below. */
function shannonEntropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  const length = [...text].length;
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

const placeholderWords = /changeme|change[_-]me|example|placeholder|your|xxxx|dummy|fake|sample|redacted|replace|insert|todo|test/i;
/** Template and code syntax: `${VAR}`, `{{ var }}`, `<your-key>`, `%(var)s`, `$VAR`, `os.environ[...]`, `getenv(...)`. */
const placeholderSyntax = /\$\{|\{\{|<[^>]*>|%\(|^\$\w|[()[\]]|process\.env|os\.environ|^env\./i;
const qualifiedName = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function isPlaceholder(value: string): boolean {
  return placeholderWords.test(value) || placeholderSyntax.test(value) || /^(.)\1*$/.test(value) || hasCountingRun(value);
}

/** `0123456789abcdef`, `abcdefgh…`: made up by a person; five in a row almost never happen by chance. */
function hasCountingRun(value: string, length = 5): boolean {
  let run = 1;
  for (let i = 1; i < value.length; i++) {
    run = value.charCodeAt(i) === value.charCodeAt(i - 1) + 1 ? run + 1 : 1;
    if (run >= length) return true;
  }
  return false;
}

/**
 * `OpeningBracketToken$1` is code: whole words in a row. Random tokens average about two letters
 * per run of letters (case changes and digits cut them); 1 in 300 reaches five.
 */
function wordLike(value: string): boolean {
  const runs = value.split(/[^A-Za-z]+|(?<=[a-z])(?=[A-Z])/).filter(Boolean);
  const letters = runs.reduce((sum, run) => sum + run.length, 0);
  return runs.length > 0 && letters / runs.length >= 5;
}

/** A vendor-prefixed token still has to look random: docs write `ghp_xxxx…` and `sk-your-key`. */
function randomLooking(token: string, minEntropy = 3): boolean {
  return !isPlaceholder(token) && shannonEntropy(token) >= minEntropy;
}

/**
 * Generic assignments are where false positives live (`password = get_password()` is code, not
 * a secret), so the value must be one unbroken run of at least 20 characters mixing letters and
 * digits, look random (3.5 bits per character; English-like identifiers score lower), and be
 * neither a placeholder nor a UUID (ids far more often than keys).
 */
function genericSecretValue(value: string): boolean {
  return !/\s/.test(value) && /\d/.test(value) && /[A-Za-z]/.test(value) && !uuid.test(value) && !isPlaceholder(value) && shannonEntropy(value) >= 3.5;
}

interface ContentRule {
  kind: string;
  /** Global, with bounded quantifiers: files run to a megabyte and a runaway pattern would stall indexing. */
  pattern: RegExp;
  /** Decides on the first capture group, or the whole match when there is none. */
  accept?: (value: string) => boolean;
}

const lineBreak = String.raw`(?:\r?\n|(?:\\r)?\\n)`;

/**
 * The name must end in the keyword (`DB_PASSWORD`, `apiKey`, `"token":`) and be followed by an
 * assignment; `max_tokens = 4096` does not qualify, `token == x` is a comparison.
 */
const assignedToSecretName = String.raw`(?:pass(?:word|wd)|pwd|secret(?:[_-]?key)?|token|api[_-]?key|access[_-]?key|auth[_-]?key|private[_-]?key|signing[_-]?key|client[_-]?secret)["']?\s{0,8}(?::=|=>|[:=](?!=))\s{0,8}`;

/** What documentation writes where a URL's password goes: `postgres://user:password@localhost/db`. */
const urlPasswordPlaceholders = /^(?:pass(?:word|wd)?|pwd|secret|\*+|x+|\.\.\.)$/i;

/**
 * A password in a URL is a credential whatever it looks like (people choose short, word-like
 * ones), unless it is a placeholder or a template: `{password}`, `${DB_PASS}`, `%(pw)s`, `:pass@`.
 */
function urlPassword(value: string): boolean {
  return value.length >= 3 && !urlPasswordPlaceholders.test(value) && !/[{}$<>%]/.test(value) && !isPlaceholder(value);
}

const contentRules: readonly ContentRule[] = [
  {
    kind: 'private key',
    // The header alone also appears in parsers and docs; a key has a base64 body after it, on
    // the next lines or after an escaped `\n` inside a JSON string (service-account files).
    pattern: new RegExp(
      String.raw`-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----` +
        `${lineBreak}(?:[\\w-]{1,40}: [^\\r\\n]{0,200}${lineBreak}){0,4}(?:${lineBreak})?[ \\t]{0,16}[A-Za-z0-9+/]{32}`,
      'g',
    ),
  },
  { kind: 'AWS access key id', pattern: /\b((?:AKIA|ASIA)[A-Z0-9]{16})\b/g, accept: (id) => !id.endsWith('EXAMPLE') },
  {
    kind: 'AWS secret access key',
    pattern: /aws_?secret_?access_?key["']?\s{0,8}(?::=|=>|[:=])\s{0,8}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/gi,
    accept: (key) => !key.includes('EXAMPLE') && randomLooking(key, 4),
  },
  { kind: 'GitHub token', pattern: /\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36})\b/g, accept: (token) => randomLooking(token.slice(4)) },
  { kind: 'GitHub token', pattern: /\b(github_pat_[A-Za-z0-9_]{50,255})\b/g, accept: (token) => randomLooking(token.slice(11)) },
  { kind: 'GitLab token', pattern: /\b(glpat-[A-Za-z0-9_-]{20,255})/g, accept: (token) => randomLooking(token.slice(6)) },
  { kind: 'Slack token', pattern: /\b(xox[baprs]-\d{6,20}-[A-Za-z0-9-]{8,255})/g },
  { kind: 'Stripe key', pattern: /\b([rs]k_live_[A-Za-z0-9]{20,255})/g, accept: (key) => randomLooking(key.slice(8)) },
  { kind: 'Google API key', pattern: /\b(AIza[0-9A-Za-z_-]{35})(?![0-9A-Za-z_-])/g, accept: (key) => randomLooking(key.slice(4)) },
  { kind: 'Anthropic API key', pattern: /\b(sk-ant-[a-z]{2,10}\d{2}-[A-Za-z0-9_-]{40,255})/g, accept: (key) => randomLooking(key) },
  {
    kind: 'OpenAI-style API key',
    pattern: /\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{32,255})/g,
    // Mixed case and digits: a long kebab-case name after `sk-` is an identifier, not a key.
    accept: (token) => {
      const key = token.replace(/^sk-(?:proj-|svcacct-|admin-)?/, '');
      return /\d/.test(key) && /[a-z]/.test(key) && /[A-Z]/.test(key) && randomLooking(key, 3.5);
    },
  },
  { kind: 'JWT', pattern: /\beyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{16,1024}/g },
  {
    kind: 'credentials in a URL',
    // scheme://user:password@host: database URLs, broker URLs, git remotes with a token.
    pattern: /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s:/@"'`]{0,100}:([^\s/@"'`]{1,200})@[A-Za-z0-9[_-]/gi,
    accept: urlPassword,
  },
  {
    kind: 'Slack webhook URL',
    pattern: /hooks\.slack\.com\/(?:services|workflows|triggers)\/(T[A-Z0-9]{6,12}\/[AB][A-Z0-9]{6,12}\/[A-Za-z0-9]{20,40})/g,
    accept: (path) => randomLooking(path.slice(path.lastIndexOf('/') + 1)),
  },
  { kind: 'Discord webhook URL', pattern: /discord(?:app)?\.com\/api\/webhooks\/\d{17,20}\/([A-Za-z0-9_-]{60,80})/g, accept: (token) => randomLooking(token) },
  {
    kind: 'Discord bot token',
    pattern: /\b([MNO][A-Za-z\d_-]{23,27}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,40})(?![A-Za-z\d_-])/g,
    accept: (token) => randomLooking(token, 4),
  },
  {
    kind: 'Telegram bot token',
    pattern: /\b(\d{8,10}:AA[A-Za-z0-9_-]{33})(?![A-Za-z0-9_-])/g,
    accept: (token) => randomLooking(token.slice(token.indexOf(':') + 3)),
  },
  { kind: 'SendGrid API key', pattern: /\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/g, accept: (key) => randomLooking(key.slice(3)) },
  { kind: 'Twilio API key', pattern: /\b(SK[0-9a-f]{32})\b/g, accept: (key) => randomLooking(key.slice(2)) },
  { kind: 'Mailgun API key', pattern: /\b(key-[0-9a-f]{32})\b/g, accept: (key) => randomLooking(key.slice(4)) },
  { kind: 'Hugging Face token', pattern: /\b(hf_[A-Za-z0-9]{34,40})\b/g, accept: (token) => randomLooking(token.slice(3)) },
  { kind: 'Shopify token', pattern: /\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b/g, accept: (token) => randomLooking(token.slice(6)) },
  { kind: 'DigitalOcean token', pattern: /\b(do[opr]_v1_[a-f0-9]{64})\b/g, accept: (token) => randomLooking(token.slice(7)) },
  { kind: 'Azure storage key', pattern: /AccountKey=([A-Za-z0-9+/]{86}==)/g, accept: (key) => randomLooking(key, 4) },
  { kind: 'Square token', pattern: /\b(sq0(?:atp|csp)-[A-Za-z0-9_-]{22,43})/g, accept: (token) => randomLooking(token.slice(7)) },
  { kind: 'age secret key', pattern: /\b(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b/g },
  { kind: 'Vault token', pattern: /\b(hvs\.[A-Za-z0-9_-]{24,200})/g, accept: (token) => randomLooking(token.slice(4)) },
  { kind: 'Databricks token', pattern: /\b(dapi[a-f0-9]{32})\b/g, accept: (token) => randomLooking(token.slice(4)) },
  { kind: 'npm token', pattern: /\b(npm_[A-Za-z0-9]{36})\b/g, accept: (token) => randomLooking(token.slice(4)) },
  // Every PyPI token is a macaroon whose base64 starts `AgE`; `pypi-` alone starts package names.
  { kind: 'PyPI token', pattern: /\b(pypi-AgE[A-Za-z0-9_-]{50,1024})/g },
  { kind: 'secret assignment', pattern: new RegExp(`${assignedToSecretName}["'\`]([^"'\`\\r\\n]{20,300})["'\`]`, 'gi'), accept: genericSecretValue },
  {
    kind: 'secret assignment',
    // Unquoted, the value may just as well be code: `type CommaToken = CommaToken$1`,
    // `this.privateKey = asn1.result.privateKey`; it ends at `&`, as in `#access_token=…&state=…`.
    pattern: new RegExp(`${assignedToSecretName}([^\\s"'\`,;&]{20,300})`, 'gi'),
    accept: (value) => genericSecretValue(value) && !wordLike(value) && !qualifiedName.test(value),
  },
];

/**
 * The first secret-looking value in `text` (by position), or null. Reports only the kind and line:
 * callers log and store the finding, so it must not carry the secret.
 */
export function findSecret(text: string): SecretFinding | null {
  let first: { index: number; kind: string } | null = null;
  for (const rule of contentRules) {
    for (const match of text.matchAll(rule.pattern)) {
      if (first && match.index >= first.index) break;
      const value = match[1] ?? match[0];
      if (rule.accept && !rule.accept(value)) continue;
      // Positions are the value's, not the keyword's: `GITHUB_TOKEN = "ghp_…"` is a GitHub token
      // (the earlier, more specific rule), not a generic assignment.
      const index = match.index + match[0].lastIndexOf(value);
      if (!first || index < first.index) first = { index, kind: rule.kind };
      break;
    }
  }
  return first ? { kind: first.kind, line: lineAt(text, first.index) } : null;
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let at = text.indexOf('\n'); at !== -1 && at < index; at = text.indexOf('\n', at + 1)) line++;
  return line;
}

/**
 * `text` with every secret-looking value replaced by a marker naming its kind, for text that must
 * be kept (training examples) rather than left out whole as the indexer leaves files out.
 */
export function scrubSecrets(text: string): { text: string; removed: number } {
  let removed = 0;
  let scrubbed = text;
  for (const rule of contentRules) {
    scrubbed = scrubbed.replace(rule.pattern, (match: string, group?: unknown) => {
      const value = typeof group === 'string' ? group : match;
      if (rule.accept && !rule.accept(value)) return match;
      removed++;
      return match.replace(value, `[secret removed: ${rule.kind}]`);
    });
  }
  return { text: scrubbed, removed };
}
