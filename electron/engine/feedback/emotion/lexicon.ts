/**
 * Everything the emotion scorer knows about words, in one place so it can be read and tuned
 * without touching the algorithm (README.md beside this file explains how each list is used).
 *
 * Words are written as the scorer sees them: lower case, accents folded ("não" → "nao"),
 * informal spellings already expanded ("vc" → "voce", "n't" → "not"), every number "<num>". In a
 * phrase, a token ending in `*` matches any word it begins ("obrigad*": obrigado, obrigada,
 * obrigadão), a token starting with `*` any word it ends ("stop *ing"), and `*` alone any word
 * ("same *"). At one position the longest phrase wins; between equally long ones, the first listed.
 */

export type Polarity = 'frustration' | 'satisfaction';

/**
 * - `expressive`: says how the user feels ("thanks", "useless"); counts everywhere.
 * - `contextual`: describes the code or the answer ("error", "works", "wrong"); ignored inside an
 *   information-seeking question or request, where it names the topic, not the mood.
 * - `persistence`: the problem is still there ("still", "de novo"); weak alone, strong next to
 *   any sign of failure. Never negated.
 * - `sarcasm`: marks the message as ironic (🙄): its positive words count as frustration.
 */
export type Role = 'expressive' | 'contextual' | 'persistence' | 'sarcasm';

export interface LexiconEntry {
  phrase: string;
  polarity: Polarity;
  /** Evidence it adds; 0.5 alone reaches the decision threshold. 0 = a signal only when negated. */
  weight: number;
  role: Role;
  /** Evidence when negated, for the opposite polarity; default: half the weight for frustration words ("not bad" is mild praise), the full weight for satisfaction words ("not helpful" is as clear as "helpful"). */
  negatedWeight?: number;
  /** Counts towards guessing the language; also restricts false friends ("show", "legal") to that language. */
  lang?: 'en' | 'pt';
  /** Only matches when the message's language is `lang` (words that mean something else in the other language). */
  onlyInLang?: true;
  /** A complaint formula that a negator before it does not turn around: "not even remotely what I asked". */
  fixed?: true;
}

type Row = [phrase: string, weight: number, extra?: Partial<Pick<LexiconEntry, 'negatedWeight' | 'onlyInLang' | 'fixed'>>];

function entries(polarity: Polarity, role: Role, lang: LexiconEntry['lang'], rows: readonly Row[]): LexiconEntry[] {
  return rows.map(([phrase, weight, extra]) => ({ phrase, polarity, weight, role, ...(lang ? { lang } : {}), ...extra }));
}

export const lexicon: readonly LexiconEntry[] = [
  // ---- English, frustration
  ...entries('frustration', 'expressive', 'en', [
    ['useless', 0.9], ['garbage', 0.9], ['trash', 0.8], ['terrible', 0.9], ['awful', 0.9], ['horrible', 0.9],
    ['wtf', 0.9], ['ffs', 0.9], ['what the hell', 0.9], ['what the heck', 0.8],
    ['ridiculous', 0.8], ['nonsense', 0.8], ['no sense', 0.8], ['not make sense', 0.8], ['ugh', 0.7], ['argh', 0.7],
    ['come on', 0.5], ['seriously', 0.5], ['kidding', 0.8], ['joking', 0.6], ['frustrat*', 0.8], ['annoying', 0.8],
    ['annoyed', 0.8], ['fed up', 0.8], ['give up', 0.7], ['giving up', 0.7], ['forget it', 0.6], ['waste of time', 0.8],
    ['wasted', 0.6], ['did you even', 0.7, { fixed: true }], ['third time', 0.7], ['how many times', 0.8], ['already told', 0.7, { fixed: true }],
    ['told you', 0.6, { fixed: true }], ['i said', 0.5, { fixed: true }], ['i asked', 0.6, { fixed: true }], ['already tried', 0.5, { fixed: true }], ['not what i', 0.7],
    ['misunderst*', 0.7], ['hallucinat*', 0.8], ['made up', 0.6], ['nothing changed', 0.6], ['no luck', 0.6], ['not even close', 0.7],
    ['stop *ing', 0.6], ['thanks for nothing', 0.9], ['nope', 0.6], ['nah', 0.5], ['sucks', 0.8], ['sucked', 0.8],
    ['bruh', 0.6], ['smh', 0.6], ['meh', 0.4], ['lame', 0.7], ['stupid', 0.8], ['dumb', 0.7], ['crap', 0.8],
    ['pointless', 0.8], ['pathetic', 0.9], ['jeez', 0.5], ['geez', 0.5], ['sigh', 0.6], ['facepalm', 0.7], ['omg', 0.3],
    ['not it', 0.5], ['are you sure', 0.4], ['what do you mean', 0.4], ['zero sense', 0.8], ['not do anything', 0.6],
    ['nothing happens', 0.6], ['nothing happened', 0.6], ['same as before', 0.6], ['just answer', 0.5],
    ['tried that', 0.4, { fixed: true }], ['tried this', 0.4, { fixed: true }], ['tried it', 0.4, { fixed: true }], ['literally', 0.3], ['you said', 0.3],
    ['not even remotely', 0.7], ['in circles', 0.7], ['overcomplicat*', 0.6], ['too complicated', 0.6],
    ['where did you get', 0.6], ['not how', 0.7], ['every single time', 0.5], ['got an error', 0.5],
    ['get an error', 0.5], ['getting an error', 0.5], ['syntax error', 0.5],
  ]),
  ...entries('frustration', 'contextual', 'en', [
    ['wrong', 0.7], ['incorrect', 0.7], ['broken', 0.5], ['broke', 0.5], ['breaks', 0.5], ['crash', 0.5],
    ['crashes', 0.5], ['crashed', 0.5], ['crashing', 0.5], ['fails', 0.5], ['failed', 0.5], ['failing', 0.5],
    ['failure', 0.4], ['error', 0.3], ['errors', 0.3], ['bug', 0.3], ['bugs', 0.3], ['buggy', 0.6], ['throws', 0.3],
    ['empty', 0.3], ['worst', 0.8], ['worse', 0.7], ['worst case', 0], ['none', 0.3], ['ignored', 0.6], ['ignoring', 0.6], ['stop', 0.35], ['<num> times', 0.4], ['three times', 0.4],
    ['shabby', 0.5, { negatedWeight: 0.6 }],
    // Technical compounds with a harsh word in them: matched, so the harsh word is not, and worth nothing.
    ['garbage collect*', 0],
    ['exception', 0.3], ['infinite loop', 0.5], ['slow', 0.4], ['slower', 0.5], ['bad', 0.5], ['invent*', 0.6],
    ['repeat*', 0.6], ['no such', 0.6], ['same answer', 0.6], ['same code', 0.6], ['same error*', 0.6],
    ['same problem*', 0.6], ['same issue*', 0.6], ['same result*', 0.6], ['same output', 0.6], ['same thing', 0.5],
    ['same exception*', 0.6], ['same mistake*', 0.7], ['same *', 0.5], ['contradict*', 0.6], ['undefined', 0.3],
    ['null', 0.3], ['nan', 0.3], ['overkill', 0.5], ['keep going', 0],
  ]),
  // ---- English, satisfaction
  ...entries('satisfaction', 'expressive', 'en', [
    ['thank*', 0.8], ['thx', 0.8], ['ty', 0.8, { onlyInLang: true }], ['tks', 0.8], ['cheers', 0.7],
    ['appreciate*', 0.8], ['perfect*', 0.8], ['awesome', 0.8], ['amazing', 0.8], ['excellent', 0.8],
    ['brilliant', 0.8], ['fantastic', 0.8], ['wonderful', 0.8], ['superb', 0.8], ['genius', 0.8], ['lifesaver', 0.9],
    ['life saver', 0.9], ['saved my', 0.8], ['you rock', 0.8], ['love', 0.7], ['loved', 0.7], ['great', 0.7],
    ['nice', 0.6], ['cool', 0.5], ['sweet', 0.5], ['neat', 0.6], ['clever', 0.5], ['beautiful', 0.7],
    ['good job', 0.8], ['well done', 0.8], ['nailed it', 0.8], ['did the trick', 0.8], ['like a charm', 0.9],
    ['finally', 0.5], ['yay', 0.7], ['woohoo', 0.8], ['wow', 0.3], ['not bad', 0.6], ['much better', 0.7],
    ['much clearer', 0.7], ['got it', 0.4], ['first try', 0.4], ['no worries', 0.3], ['elegant', 0.6], ['slick', 0.6],
    ['lovely', 0.7], ['kudos', 0.8], ['legend', 0.7], ['top notch', 0.8], ['spot on', 0.8], ['bingo', 0.6],
    ['that is the one', 0.5], ['not know', 0.4], ['no more error*', 0.5], ['no more crash*', 0.5], ['no more bug*', 0.5],
  ]),
  ...entries('satisfaction', 'contextual', 'en', [
    ['work', 0.3, { negatedWeight: 0.7 }], ['works', 0.5, { negatedWeight: 0.7 }], ['worked', 0.6, { negatedWeight: 0.7 }],
    ['working', 0.4, { negatedWeight: 0.7 }], ['help', 0, { negatedWeight: 0.6 }], ['helps', 0.4, { negatedWeight: 0.6 }],
    ['helped', 0.7, { negatedWeight: 0.7 }], ['helpful', 0.7], ['useful', 0.6], ['compile', 0, { negatedWeight: 0.6 }],
    ['compiles', 0.4, { negatedWeight: 0.6 }], ['compiled', 0.4, { negatedWeight: 0.6 }], ['run', 0, { negatedWeight: 0.5 }],
    ['runs', 0.3, { negatedWeight: 0.5 }], ['exist', 0, { negatedWeight: 0.6 }], ['exists', 0, { negatedWeight: 0.6 }],
    ['listen*', 0, { negatedWeight: 0.7 }], ['fix', 0, { negatedWeight: 0.6 }], ['fixes', 0, { negatedWeight: 0.6 }],
    ['answer', 0, { negatedWeight: 0.6 }], ['answered', 0, { negatedWeight: 0.6 }], ['match', 0.3, { negatedWeight: 0.5 }],
    ['matches', 0.3, { negatedWeight: 0.5 }], ['change', 0, { negatedWeight: 0.5 }], ['changed', 0, { negatedWeight: 0.5 }], ['understand*', 0, { negatedWeight: 0.5 }], ['valid', 0, { negatedWeight: 0.5 }],
    ['exactly', 0.6], ['that is it', 0.5], ['makes sense', 0.4], ['clear*', 0.4], ['correct', 0.5], ['right', 0.3],
    ['good', 0.5], ['better', 0.4], ['fixed', 0.6], ['solved', 0.6], ['solves', 0.5], ['resolved', 0.6],
    ['passes', 0.4], ['passed', 0.4], ['passing', 0.4], ['green', 0.3], ['faster', 0.4], ['cleaner', 0.4],
    ['merged', 0.3], ['success*', 0.5], ['yes', 0.3], ['the best', 0.6], ['gold', 0.5],
  ]),
  // ---- Portuguese, frustration
  ...entries('frustration', 'expressive', 'pt', [
    ['inutil', 0.9], ['lixo', 0.9], ['pessim*', 0.9], ['horrivel', 0.9], ['ridicul*', 0.8], ['absurdo', 0.7],
    ['nao faz sentido', 0.8], ['sem sentido', 0.7], ['aff', 0.7], ['affs', 0.7], ['afe', 0.6], ['putz', 0.6],
    ['pqp', 0.9], ['que saco', 0.8], ['pelo amor de deus', 0.8], ['pelamor', 0.8], ['brincadeira', 0.7],
    ['serio', 0.5], ['desisto', 0.8], ['esquece', 0.6], ['cansei', 0.8], ['perda de tempo', 0.8], ['piorou', 0.7], ['piorando', 0.7], ['ja falei', 0.7, { fixed: true }], ['ja disse', 0.7, { fixed: true }], ['te disse', 0.6, { fixed: true }], ['te falei', 0.6, { fixed: true }],
    ['eu disse', 0.5, { fixed: true }], ['eu pedi', 0.6, { fixed: true }], ['pedi', 0.5, { fixed: true }], ['nao era isso', 0.7], ['nao e isso', 0.7],
    ['nao era o que', 0.7], ['nao era para', 0.6], ['nao entendeu', 0.7], ['nao entendi', 0.4], ['voce nem', 0.7],
    ['viajando', 0.7], ['mesmo erro', 0.6], ['mesma coisa', 0.5], ['mesmo problema', 0.6], ['mesma resposta', 0.6],
    ['mesmo codigo', 0.6], ['nada mudou', 0.6], ['ja tentei', 0.5], ['terceira vez', 0.7], ['quantas vezes', 0.8],
    ['merda', 0.8], ['droga', 0.6], ['porra', 0.8], ['errou', 0.6], ['obrigado por nada', 0.9], ['bosta', 0.9],
    ['porcaria', 0.9], ['zoando', 0.7], ['sacanagem', 0.8], ['deu pau', 0.7], ['deu ruim', 0.7], ['nada a ver', 0.7],
    ['nem perto', 0.7], ['eu perguntei', 0.5, { fixed: true }], ['eu falei', 0.5, { fixed: true }], ['ja testei', 0.5, { fixed: true }], ['mds', 0.4], ['meu deus', 0.4],
    ['ue', 0.3], ['mesmo resultado', 0.6], ['mesma saida', 0.6], ['literalmente', 0.3], ['voce falou', 0.3],
    ['voce disse', 0.3], ['nem de longe', 0.7], ['em circulos', 0.7], ['complicando', 0.5],
    ['de onde voce tirou', 0.6], ['nao e assim', 0.7], ['toda santa vez', 0.5], ['deu erro', 0.5], ['da erro', 0.5],
    ['erro de sintaxe', 0.5],
  ]),
  ...entries('frustration', 'contextual', 'pt', [
    ['errado', 0.7], ['errada', 0.7], ['errados', 0.7], ['erradas', 0.7], ['incorreto', 0.7], ['erro', 0.3],
    ['erros', 0.3], ['quebr*', 0.5], ['falh*', 0.5], ['travou', 0.5], ['travando', 0.5], ['lento', 0.4],
    ['loop infinito', 0.5], ['repet*', 0.6], ['ruim', 0.5], ['para de', 0.5], ['pare de', 0.5], ['bugad*', 0.6],
    ['bugou', 0.6], ['bugando', 0.6], ['vazio', 0.3], ['vazia', 0.3], ['ignorou', 0.6], ['ignorando', 0.6],
    ['<num> vezes', 0.4], ['tres vezes', 0.4], ['garbage collect*', 0], ['mesmo *', 0.5], ['mesma *', 0.5],
    ['mesmo que', 0], ['mesmo assim', 0], ['contradiz', 0.6], ['pior', 0.7], ['pior caso', 0],
    ['complicad*', 0.4], ['continua gerando', 0],
  ]),
  // ---- Portuguese, satisfaction
  ...entries('satisfaction', 'expressive', 'pt', [
    ['obrigad*', 0.8], ['brigad*', 0.8], ['obg', 0.8], ['vlw', 0.8], ['valeu', 0.8], ['agradec*', 0.8], ['tmj', 0.5],
    ['perfeit*', 0.8], ['otimo', 0.7], ['otima', 0.7], ['excelente', 0.8], ['incrivel', 0.8], ['sensacional', 0.8],
    ['fantastico', 0.8], ['maravilh*', 0.8], ['genio', 0.8], ['salvou', 0.8], ['adorei', 0.8], ['amei', 0.8],
    ['gostei', 0.7], ['curti', 0.7], ['parabens', 0.7], ['mandou bem', 0.8], ['show de bola', 0.8],
    ['top', 0.6, { onlyInLang: true }], ['massa', 0.6, { onlyInLang: true }], ['legal', 0.6, { onlyInLang: true }],
    ['que legal', 0.7], ['beleza', 0.4], ['deu bom', 0.7], ['isso ai', 0.4],
    ['agora sim', 0.7], ['finalmente', 0.5], ['de primeira', 0.4], ['entendi', 0.4], ['agora entendi', 0.6],
    ['lindo', 0.7], ['nossa', 0.3], ['bem melhor', 0.7], ['muito melhor', 0.7], ['nada mal', 0.6],
    ['sem problemas', 0.3], ['brilhante', 0.8], ['opa', 0.3], ['nao sabia', 0.4], ['funfou', 0.8], ['brabo', 0.6], ['bacana', 0.6], ['irado', 0.5], ['agora foi', 0.7],
    ['ficou claro', 0.6], ['elegante', 0.6], ['fechou', 0.3],
  ]),
  ...entries('satisfaction', 'contextual', 'pt', [
    ['show', 0.6, { onlyInLang: true }], ['funciona', 0.5, { negatedWeight: 0.7 }], ['funcionou', 0.6, { negatedWeight: 0.7 }],
    ['funcionando', 0.4, { negatedWeight: 0.7 }], ['funcionar', 0, { negatedWeight: 0.7 }], ['funcione', 0, { negatedWeight: 0.7 }],
    ['funcionam', 0.4, { negatedWeight: 0.7 }], ['ajuda', 0, { negatedWeight: 0.6 }], ['ajudou', 0.7, { negatedWeight: 0.7 }],
    ['util', 0.6], ['compila', 0.3, { negatedWeight: 0.6 }], ['compilou', 0.5, { negatedWeight: 0.6 }],
    ['roda', 0.3, { negatedWeight: 0.5 }], ['rodou', 0.4, { negatedWeight: 0.5 }], ['rodando', 0.3, { negatedWeight: 0.5 }],
    ['existe', 0, { negatedWeight: 0.6 }], ['lendo', 0, { negatedWeight: 0.7 }], ['deu certo', 0.7],
    ['rolou', 0.6, { negatedWeight: 0.7 }], ['funfa', 0.5, { negatedWeight: 0.7 }], ['deu', 0, { negatedWeight: 0.6 }],
    ['serve', 0, { negatedWeight: 0.6 }], ['respondeu', 0, { negatedWeight: 0.6 }], ['pega', 0, { negatedWeight: 0.5 }], ['batem', 0.3, { negatedWeight: 0.5 }],
    ['bate', 0.3, { negatedWeight: 0.5 }],
    ['mudou', 0, { negatedWeight: 0.5 }],
    ['resolveu', 0.6], ['resolvido', 0.6], ['resolvida', 0.6], ['resolve', 0, { negatedWeight: 0.6 }],
    ['corrigiu', 0.6], ['corrigido', 0.6], ['passou', 0.4], ['certo', 0.4], ['certinho', 0.6], ['correto', 0.5],
    ['bom', 0.5], ['boa', 0.5, { onlyInLang: true }], ['o melhor', 0.6], ['ouro', 0.5], ['melhor', 0.4], ['rapido', 0.4], ['limpo', 0.4], ['sucesso', 0.5], ['isso mesmo', 0.6], ['era isso', 0.5],
    ['e isso', 0.4], ['exatamente', 0.6], ['faz sentido', 0.4],
  ]),
  // ---- Any language: laughter, emojis, emoticons (the scorer reduces an emoji to its first code point)
  ...entries('satisfaction', 'expressive', undefined, [
    ['<laugh>', 0.3], ['👍', 0.7], ['🙏', 0.7], ['❤', 0.7], ['😍', 0.8], ['😊', 0.6], ['😀', 0.6], ['😃', 0.6],
    ['😄', 0.6], ['😁', 0.6], ['🎉', 0.8], ['🚀', 0.6], ['✅', 0.5], ['👏', 0.7], ['🥳', 0.8], ['💯', 0.7], ['🔥', 0.5],
    ['🤩', 0.8], ['🙌', 0.7], ['💪', 0.5], ['😎', 0.5], ['☺', 0.6], ['🥰', 0.8], ['✨', 0.4], ['🤗', 0.6], ['👌', 0.6],
    ['😆', 0.4], ['😂', 0.3], ['🤣', 0.3], [':)', 0.6], [':-)', 0.6], [':d', 0.6], [':-d', 0.6], ['<3', 0.6],
  ]),
  ...entries('frustration', 'expressive', undefined, [
    ['😡', 0.9], ['😠', 0.8], ['🤬', 0.9], ['😤', 0.7], ['😩', 0.7], ['😫', 0.7], ['😞', 0.6], ['😢', 0.5], ['😭', 0.6],
    ['🤦', 0.8], ['👎', 0.8], ['❌', 0.4], ['😕', 0.5], ['🙁', 0.6], ['☹', 0.6], ['😖', 0.6], ['😣', 0.6], ['😓', 0.5],
    ['💀', 0.4], ['🤯', 0.4], ['😐', 0.3], ['😑', 0.5], [':(', 0.5], [':-(', 0.5], [':/', 0.5], [':-/', 0.5], [':s', 0.5],
  ]),
  ...entries('frustration', 'sarcasm', undefined, [['🙄', 0.6], ['😒', 0.6], ['🙃', 0.6]]),
  ...entries('frustration', 'sarcasm', 'pt', [['sqn', 0.6], ['so que nao', 0.6], ['ah claro', 0.6], ['claro porque', 0.6]]),
  ...entries('frustration', 'sarcasm', 'en', [['yeah right', 0.6], ['oh sure', 0.6], ['yeah sure', 0.6], ['sure because', 0.6]]),
  // ---- Persistence: the answer did not fix it
  ...entries('frustration', 'persistence', 'en', [
    ['still', 0.4], ['still the same', 0.6], ['again', 0.45], ['yet again', 0.5], ['keep', 0.3], ['keeps', 0.35], ['kept', 0.3], ['keep *ing', 0.55], ['keeps *ing', 0.55],
    ['another error*', 0.55], ['another bug*', 0.55], ['more error*', 0.55], ['more bug*', 0.55], ['this time', 0.3], ['as before', 0.3], ['once more', 0.3], ['every time', 0.35],
  ]),
  ...entries('frustration', 'persistence', 'pt', [
    ['ainda', 0.35], ['de novo', 0.45], ['novamente', 0.45], ['outra vez', 0.45], ['continua', 0.4], ['continua igual', 0.6], ['tudo igual', 0.6], ['continuo', 0.35],
    ['fica', 0.2], ['fica *ando', 0.55], ['fica *endo', 0.55], ['continua *ando', 0.55], ['continua *endo', 0.55],
    ['continua *indo', 0.55], ['mais um', 0.25], ['mais uma', 0.25], ['mais erro*', 0.55], ['outro erro', 0.55], ['outro bug', 0.55], ['dessa vez', 0.3],
    ['desta vez', 0.3], ['que antes', 0.3], ['toda vez', 0.35], ['sempre', 0.2],
  ]),
];

/** Flip the polarity of a lexicon word that follows within the negation window. */
export const negators: ReadonlySet<string> = new Set([
  'not', 'no', 'never', 'nothing', 'without', 'nor', 'neither', 'none', 'nobody',
  'nao', 'nem', 'nunca', 'nada', 'sem', 'jamais', 'ninguem',
]);

/** Undo a frustration word that comes just before them ("the error is gone", "o erro sumiu"). */
export const resolvers: ReadonlySet<string> = new Set(['gone', 'away', 'disappeared', 'sumiu', 'desapareceu', 'resolvido']);

/** Strengthen the next lexicon word. */
export const intensifiers: ReadonlySet<string> = new Set([
  'very', 'so', 'much', 'really', 'super', 'totally', 'completely', 'absolutely', 'extremely', 'too',
  'muito', 'bem', 'mega', 'tao', 'totalmente', 'completamente', 'demais',
]);

/** What comes after them outweighs what came before ("thanks, but it still fails"). */
export const contrasts: ReadonlySet<string> = new Set(['but', 'however', 'though', 'although', 'mas', 'porem', 'contudo', 'entretanto', 'embora']);

/**
 * A sentence opening with one of these (after fillers) asks for information or gives an
 * instruction: the technical words in it name the topic ("how do I handle the error when…").
 * Two-word openers are written with a space.
 */
export const infoOpeners: ReadonlySet<string> = new Set([
  'how', 'what', 'which', 'where', 'when', 'who', 'can', 'could', 'would', 'should', 'is', 'are', 'does', 'do', 'did',
  'will', 'whats', 'hows', 'explain', 'show', 'give', 'write', 'make', 'create', 'add', 'use', 'translate', 'generate',
  'implement', 'convert', 'refactor', 'list', 'tell', 'let', 'lets', 'is there', 'what if',
  'como', 'qual', 'quais', 'onde', 'quando', 'quem', 'o que', 'oque', 'existe', 'tem como', 'da para', 'pode', 'posso',
  'consegue', 'explica', 'explique', 'mostra', 'mostre', 'escreve', 'escreva', 'faz', 'faca', 'cria', 'crie',
  'adiciona', 'adicione', 'usa', 'traduz', 'traduza', 'gera', 'gere', 'implementa', 'converte', 'refatora',
  'lista', 'me', 'vamos', 'e se',
]);

/** "Why" asks about a failure more often than for information ("why doesn't this work?"). */
export const complaintOpeners: ReadonlySet<string> = new Set(['why', 'porque', 'por que', 'porq']);

/** Words skipped when looking for a sentence's opener ("ok, and how do I…", "tá, e como…"). */
export const fillers: ReadonlySet<string> = new Set([
  'ok', 'okay', 'and', 'so', 'then', 'now', 'also', 'hmm', 'hm', 'hey', 'hi', 'um', 'uh', 'well', 'oh', 'ohh', 'alright',
  'e', 'esta', 'entao', 'agora', 'tipo', 'cara', 'mano', 'oi', 'ah', 'ahh', 'beleza', 'certo', 'blz',
]);

/** A reply made only of these, fillers and laughter ("no.", "hmm no", "lol no", "não, …") rejects the answer; "nope" and "wrong" are lexicon words already. */
export const rejections: ReadonlySet<string> = new Set(['no', 'nao']);

/** Capitalised, these are names, not shouting. */
export const acronyms: ReadonlySet<string> = new Set([
  'ok', 'api', 'json', 'sql', 'http', 'https', 'url', 'css', 'html', 'js', 'ts', 'npm', 'cli', 'gpu', 'cpu', 'ram',
  'id', 'ui', 'ux', 'aws', 'pr', 'ci', 'db', 'orm', 'jwt', 'xml', 'yaml', 'csv', 'pdf', 'utf', 'rest', 'dom', 'sdk',
  'ide', 'os', 'gb', 'mb', 'kb', 'tcp', 'udp', 'ip', 'dns', 'ssh', 'ssl', 'tls', 'readme', 'todo', 'env', 'eof', 'io',
  'jsx', 'tsx', 'php', 'vs', 'llm', 'ai',
]);

/** Informal Brazilian spellings, expanded after accent folding; they also mark a message as Portuguese. */
export const ptSlang: ReadonlyMap<string, readonly string[]> = new Map([
  ['vc', ['voce']], ['vcs', ['voces']], ['pq', ['porque']], ['q', ['que']], ['tb', ['tambem']], ['tbm', ['tambem']],
  ['mt', ['muito']], ['mto', ['muito']], ['mta', ['muita']], ['td', ['tudo']], ['nd', ['nada']], ['msm', ['mesmo']],
  ['blz', ['beleza']], ['qdo', ['quando']], ['agr', ['agora']], ['tava', ['estava']], ['pra', ['para']],
  ['brigadao', ['obrigado']], ['obgd', ['obg']],
]);

/** Also common English words ("to", "n"): expanded only in a message guessed to be Portuguese. */
export const ptOnlySlang: ReadonlyMap<string, readonly string[]> = new Map([
  ['n', ['nao']], ['ta', ['esta']], ['to', ['estou']], ['eh', ['e']], ['pro', ['para']],
]);

/** English contractions and their apostrophe-less spellings; the tokenizer already splits "doesn't" into "does" + "n't". */
export const enContractions: ReadonlyMap<string, readonly string[]> = new Map([
  ["n't", ['not']], ["'s", ['is']], ["'re", ['are']], ["'m", ['am']], ["'ll", ['will']], ["'ve", ['have']], ["'d", ['would']],
  ["you're", ['you', 'are']], ["we're", ['we', 'are']], ["they're", ['they', 'are']],
  ['dont', ['do', 'not']], ['doesnt', ['does', 'not']], ['didnt', ['did', 'not']], ['isnt', ['is', 'not']],
  ['wasnt', ['was', 'not']], ['cant', ['can', 'not']], ['cannot', ['can', 'not']], ['wont', ['will', 'not']],
  ['arent', ['are', 'not']], ['aint', ['is', 'not']], ['couldnt', ['could', 'not']], ['wouldnt', ['would', 'not']],
  ['shouldnt', ['should', 'not']], ['havent', ['have', 'not']], ['hasnt', ['has', 'not']], ['thats', ['that', 'is']],
  ['u', ['you']], ['ur', ['your']], ['pls', ['please']], ['plz', ['please']], ['thanx', ['thanks']], ['tnx', ['thanks']],
]);

/** Function words: ignored by the negation window and by the repeated-question comparison; they also tell the language. */
export const stopwords: Readonly<Record<'en' | 'pt', ReadonlySet<string>>> = {
  en: new Set([
    'the', 'a', 'an', 'is', 'it', 'its', 'this', 'that', 'you', 'to', 'and', 'of', 'for', 'with', 'what', 'how', 'why',
    'does', 'do', 'did', 'i', 'my', 'me', 'in', 'on', 'be', 'are', 'was', 'have', 'has', 'can', 'just', 'your', 'am',
    'will', 'would', 'should', 'could', 'there', 'here', 'from', 'by', 'at', 'as', 'or', 'if', 'so', 'but', 'not',
    'any', 'some', 'get', 'got', 'please', 'now', 'then', 'way', 'want', 'need', 'using', 'use', 'into', 'about',
    'when', 'which', 'where', 'we', 'they', 'them', 'he', 'she', 'one', 'all', 'more', 'also', 'these', 'those',
    // Portuguese too ("no" = "in the"): in both lists, it votes for neither language.
    'no',
  ]),
  pt: new Set([
    'o', 'os', 'as', 'um', 'uma', 'uns', 'de', 'do', 'da', 'dos', 'das', 'em', 'no', 'na', 'nos', 'nas', 'para',
    'com', 'que', 'isso', 'esse', 'essa', 'este', 'esta', 'isto', 'eu', 'voce', 'meu', 'minha', 'ja', 'ainda',
    'tambem', 'mais', 'muito', 'agora', 'porque', 'como', 'qual', 'quais', 'onde', 'quando', 'mas', 'por', 'se',
    'ele', 'ela', 'te', 'me', 'seu', 'sua', 'foi', 'ser', 'estou', 'estava', 'tem', 'ter', 'faco', 'fazer', 'ao',
    'pelo', 'pela', 'num', 'numa', 'nesse', 'nessa', 'desse', 'dessa', 'disso', 'nisso', 'aqui', 'entao', 'tudo',
    'nao', 'nada', 'nem', 'nunca', 'sem',
  ]),
};
