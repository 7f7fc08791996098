// npllm-train: LoRA training and evaluation over a frozen (quantized) llama.cpp base model.
//
// Protocol: one JSON object per line on stdout (machine-readable, flushed per line); human-readable
// diagnostics on stderr. Exit code 0 on success (including a SIGTERM/SIGINT stop, which still writes
// the adapter), 1 on a usage or input error, 2 on an internal failure.
//
// The adapter A/B tensors live in a llama_adapter_lora loaded from GGUF (a fresh one is generated in
// memory), so the training graph is exactly the inference graph node-llama-cpp runs with that adapter.

#include "ggml.h"
#include "ggml-backend.h"
#include "ggml-opt.h"
#include "gguf.h"
#include "llama.h"

#include "llama-adapter.h" // internal: ab_map, the adapter's A/B tensors
#include "llama-model.h"   // internal: llama_internal_get_tensor_map, to find the target weights

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace {

// ---------------------------------------------------------------------------------------------
// output

std::string json_escape(const std::string & s) {
    std::string out;
    out.reserve(s.size() + 2);
    for (const unsigned char c : s) {
        switch (c) {
            case '"':  out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n";  break;
            case '\r': out += "\\r";  break;
            case '\t': out += "\\t";  break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    snprintf(buf, sizeof(buf), "\\u%04x", c);
                    out += buf;
                } else {
                    out += (char) c;
                }
        }
    }
    return out;
}

std::string json_num(double v, int digits = 6) {
    if (!std::isfinite(v)) {
        return "null";
    }
    char buf[40];
    snprintf(buf, sizeof(buf), "%.*g", digits, v);
    return buf;
}

void emit(const std::string & line) {
    fputs(line.c_str(), stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

bool g_verbose = false;
bool g_no_repack = false; // --no-repack: every weight in the plain layout, as before the repacked forward

void log_cb(ggml_log_level level, const char * text, void *) {
    if (g_verbose || level == GGML_LOG_LEVEL_ERROR || level == GGML_LOG_LEVEL_WARN) {
        fputs(text, stderr);
    }
}

std::atomic<bool> g_stop{false};

void on_signal(int) {
    g_stop.store(true);
}

// The process's peak resident set so far, in MB (ru_maxrss is in KB on Linux, bytes on macOS).
double peak_rss_mb() {
    struct rusage ru = {};
    getrusage(RUSAGE_SELF, &ru);
#if defined(__APPLE__)
    return std::round(ru.ru_maxrss / 1e6 * 10) / 10;
#else
    return std::round(ru.ru_maxrss / 1024.0 * 10) / 10;
#endif
}

double now_ms() {
    using namespace std::chrono;
    return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

// ---------------------------------------------------------------------------------------------
// options

struct options {
    std::string mode;                 // train | eval | importance | gradcheck
    std::string model;
    std::vector<std::string> data;
    std::string out;
    std::string adapter_in;           // train: continue from; eval: adapter to apply
    float       adapter_scale = 1.0f; // eval only
    int         rank  = 8;
    float       alpha = 16.0f;
    std::vector<std::string> targets = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
    std::string layers  = "all";      // train (new adapter): all | top:N | A-B | A
    int         n_ctx   = 128;
    float       lr      = 1e-4f;
    float       lr_min  = -1.0f;      // < 0: constant lr
    int         warmup  = 0;
    float       wd      = 0.0f;
    float       beta1   = 0.9f;
    float       beta2   = 0.999f;
    int         epochs  = 1;
    long        steps   = -1;         // < 0: epochs * windows
    int         threads = 2;
    uint32_t    seed    = 42;
    bool        shuffle = true;
    long        save_every = 0;       // 0: only at the end
    long        max_windows = -1;     // eval, importance: limit
    std::string mas_importance;       // train: Omega file from the importance mode
    std::string mas_anchor;           // train: theta* (adapter); defaults to --adapter-in
    float       mas_lambda = 0.0f;    // train: penalty strength, 0 = off
    long        gc_params = 32;       // gradcheck: parameters to check
    double      gc_eps    = 5e-2;     // gradcheck: finite-difference step
    long        gc_window = 0;        // gradcheck: the window whose gradient is checked
};

const char * USAGE =
    "usage:\n"
    "  npllm-train train --model BASE.gguf --data FILE [--data FILE...] --out ADAPTER.gguf\n"
    "                    [--adapter-in ADAPTER.gguf] [--rank 8] [--alpha 16]\n"
    "                    [--targets attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,ffn_down]\n"
    "                    [--layers all|top:N|A-B] [--ctx 128] [--lr 1e-4] [--lr-min LR] [--warmup 0] [--wd 0]\n"
    "                    [--beta1 0.9] [--beta2 0.999] [--epochs 1] [--steps N] [--threads 2]\n"
    "                    [--seed 42] [--no-shuffle] [--save-every N] [--no-repack] [--verbose]\n"
    "                    [--mas-importance OMEGA.gguf --mas-lambda L [--mas-anchor ADAPTER.gguf]]\n"
    "  npllm-train eval  --model BASE.gguf --data FILE [--data FILE...] [--adapter ADAPTER.gguf]\n"
    "                    [--scale 1] [--ctx 128] [--threads 2] [--max-windows N] [--no-repack] [--verbose]\n"
    "  npllm-train importance --model BASE.gguf --adapter ADAPTER.gguf --data FILE [--data FILE...]\n"
    "                    --out OMEGA.gguf [--ctx 128] [--threads 2] [--max-windows N] [--no-repack] [--verbose]\n"
    "  npllm-train gradcheck --model F32_BASE.gguf --adapter ADAPTER.gguf --data FILE [--data FILE...]\n"
    "                    [--ctx 128] [--threads 2] [--params 32] [--eps 5e-2] [--window 0] [--seed 42]\n"
    "                    [--mas-importance OMEGA.gguf --mas-lambda L --mas-anchor ADAPTER.gguf [--lr 1e-4]]\n"
    "FILE is plain text, or JSON Lines (*.jsonl) whose objects carry a \"text\" string.\n";

std::vector<std::string> split_csv(const std::string & s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        if (!item.empty()) {
            out.push_back(item);
        }
    }
    return out;
}

// The blocks a new adapter covers, inclusive. ggml back-propagates only down to the lowest block
// holding a trainable parameter, so LoRA on the top layers also skips the backward pass below them.
struct layer_range {
    int lo;
    int hi;
};

layer_range parse_layers(const std::string & spec, int n_layer) {
    auto integer = [&](const std::string & v) -> int {
        char * end = nullptr;
        const long x = strtol(v.c_str(), &end, 10);
        if (v.empty() || *end != '\0' || x < 0 || x > 100000) {
            throw usage_error("--layers expects all, top:N, A-B or A (block numbers from 0), got '" + spec + "'");
        }
        return (int) x;
    };
    if (spec == "all") {
        return {0, n_layer - 1};
    }
    if (spec.rfind("top:", 0) == 0) {
        const int n = integer(spec.substr(4));
        if (n < 1) {
            throw usage_error("--layers top:N needs N >= 1");
        }
        // a model with fewer blocks than N trains all of them
        return {std::max(0, n_layer - n), n_layer - 1};
    }
    const size_t dash = spec.find('-');
    const int lo = integer(dash == std::string::npos ? spec : spec.substr(0, dash));
    const int hi = dash == std::string::npos ? lo : integer(spec.substr(dash + 1));
    if (lo > hi) {
        throw usage_error("--layers " + spec + " is an empty range");
    }
    if (hi >= n_layer) {
        throw usage_error("--layers " + spec + " goes past the model's last block (" + std::to_string(n_layer - 1) +
                          "; it has " + std::to_string(n_layer) + " blocks)");
    }
    return {lo, hi};
}

options parse_args(int argc, char ** argv) {
    options o;
    if (argc < 2) {
        throw usage_error("missing mode (train, eval, importance or gradcheck)");
    }
    o.mode = argv[1];
    if (o.mode == "--help" || o.mode == "-h") {
        throw usage_error("");
    }
    if (o.mode != "train" && o.mode != "eval" && o.mode != "importance" && o.mode != "gradcheck") {
        throw usage_error("unknown mode '" + o.mode + "' (expected train, eval, importance or gradcheck)");
    }
    for (int i = 2; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                throw usage_error("option " + a + " needs a value");
            }
            return argv[++i];
        };
        auto num = [&](const std::string & v) -> double {
            char * end = nullptr;
            const double d = strtod(v.c_str(), &end);
            if (v.empty() || *end != '\0' || !std::isfinite(d)) {
                throw usage_error("option " + a + " expects a number, got '" + v + "'");
            }
            return d;
        };
        if      (a == "--model")       { o.model = next(); }
        else if (a == "--data")        { o.data.push_back(next()); }
        else if (a == "--out")         { o.out = next(); }
        else if (a == "--adapter-in" || a == "--adapter") { o.adapter_in = next(); }
        else if (a == "--scale")       { o.adapter_scale = (float) num(next()); }
        else if (a == "--rank")        { o.rank = (int) num(next()); }
        else if (a == "--alpha")       { o.alpha = (float) num(next()); }
        else if (a == "--targets")     { o.targets = split_csv(next()); }
        else if (a == "--layers")      { o.layers = next(); }
        else if (a == "--ctx")         { o.n_ctx = (int) num(next()); }
        else if (a == "--lr")          { o.lr = (float) num(next()); }
        else if (a == "--lr-min")      { o.lr_min = (float) num(next()); }
        else if (a == "--warmup")      { o.warmup = (int) num(next()); }
        else if (a == "--wd")          { o.wd = (float) num(next()); }
        else if (a == "--beta1")       { o.beta1 = (float) num(next()); }
        else if (a == "--beta2")       { o.beta2 = (float) num(next()); }
        else if (a == "--epochs")      { o.epochs = (int) num(next()); }
        else if (a == "--steps")       { o.steps = (long) num(next()); }
        else if (a == "--threads")     { o.threads = (int) num(next()); }
        else if (a == "--seed")        { o.seed = (uint32_t) num(next()); }
        else if (a == "--no-shuffle")  { o.shuffle = false; }
        else if (a == "--save-every")  { o.save_every = (long) num(next()); }
        else if (a == "--max-windows") { o.max_windows = (long) num(next()); }
        else if (a == "--mas-importance") { o.mas_importance = next(); }
        else if (a == "--mas-anchor")  { o.mas_anchor = next(); }
        else if (a == "--mas-lambda")  { o.mas_lambda = (float) num(next()); }
        else if (a == "--params")      { o.gc_params = (long) num(next()); }
        else if (a == "--eps")         { o.gc_eps = num(next()); }
        else if (a == "--window")      { o.gc_window = (long) num(next()); }
        else if (a == "--verbose")     { g_verbose = true; }
        else if (a == "--no-repack")   { g_no_repack = true; }
        else if (a == "--help" || a == "-h") { throw usage_error(""); }
        else { throw usage_error("unknown option '" + a + "'"); }
    }
    if (o.model.empty()) { throw usage_error("--model is required"); }
    if (o.data.empty())  { throw usage_error("--data is required"); }
    if ((o.mode == "train" || o.mode == "importance") && o.out.empty()) { throw usage_error("--out is required for " + o.mode); }
    if (o.mode == "importance" && o.adapter_in.empty()) {
        throw usage_error("importance needs --adapter (the trained adapter whose parameters are weighed)");
    }
    if (o.mode == "gradcheck") {
        if (o.adapter_in.empty()) {
            throw usage_error("gradcheck needs --adapter (with non-zero A and B, or every gradient of A is 0)");
        }
        // theta* = the adapter itself would make the penalty and its gradient 0: nothing to check
        if (o.mas_lambda > 0.0f && o.mas_anchor.empty()) {
            throw usage_error("gradcheck of the MAS penalty needs --mas-anchor ADAPTER.gguf (another adapter than --adapter)");
        }
        if (o.gc_params < 1) { throw usage_error("--params must be >= 1"); }
        if (!(o.gc_eps > 0.0)) { throw usage_error("--eps must be > 0"); }
        if (o.gc_window < 0) { throw usage_error("--window must be >= 0"); }
    }
    if (o.mas_lambda < 0.0f) { throw usage_error("--mas-lambda must be >= 0"); }
    if (o.mas_lambda > 0.0f && o.mas_importance.empty()) {
        throw usage_error("--mas-lambda needs --mas-importance OMEGA.gguf (from the importance mode)");
    }
    if (o.mas_lambda > 0.0f && o.mas_anchor.empty() && o.adapter_in.empty()) {
        throw usage_error("the MAS penalty needs an anchor: --adapter-in or --mas-anchor");
    }
    if (o.n_ctx < 8 || o.n_ctx > 8192) { throw usage_error("--ctx must be within 8..8192"); }
    if (o.threads < 1) { throw usage_error("--threads must be >= 1"); }
    if (o.rank < 1 || o.rank > 1024) { throw usage_error("--rank must be within 1..1024"); }
    if (!(o.lr > 0.0f)) { throw usage_error("--lr must be > 0"); }
    if (o.wd < 0.0f || o.wd > 1.0f) { throw usage_error("--wd must be within 0..1"); }
    if (o.epochs < 1) { throw usage_error("--epochs must be >= 1"); }
    if (o.targets.empty()) { throw usage_error("--targets is empty"); }
    parse_layers(o.layers, 100001); // syntax now; the range is checked against the model once it is loaded
    return o;
}

// ---------------------------------------------------------------------------------------------
// data

std::string read_file(const std::string & path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        throw usage_error("cannot read data file '" + path + "': " + strerror(errno));
    }
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

void append_utf8(std::string & out, uint32_t cp) {
    if (cp < 0x80) {
        out += (char) cp;
    } else if (cp < 0x800) {
        out += (char) (0xC0 | (cp >> 6));
        out += (char) (0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += (char) (0xE0 | (cp >> 12));
        out += (char) (0x80 | ((cp >> 6) & 0x3F));
        out += (char) (0x80 | (cp & 0x3F));
    } else {
        out += (char) (0xF0 | (cp >> 18));
        out += (char) (0x80 | ((cp >> 12) & 0x3F));
        out += (char) (0x80 | ((cp >> 6) & 0x3F));
        out += (char) (0x80 | (cp & 0x3F));
    }
}

// Minimal JSON reader: enough to pull the top-level "text" string out of one JSONL object.
struct json_reader {
    const std::string & s;
    size_t i = 0;

    [[noreturn]] void fail(const char * what) const {
        throw std::runtime_error(std::string(what) + " at column " + std::to_string(i + 1));
    }
    void ws() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) {
            ++i;
        }
    }
    uint32_t hex4() {
        if (i + 4 > s.size()) { fail("truncated \\u escape"); }
        uint32_t v = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = s[i++];
            v <<= 4;
            if      (c >= '0' && c <= '9') { v |= (uint32_t) (c - '0'); }
            else if (c >= 'a' && c <= 'f') { v |= (uint32_t) (c - 'a' + 10); }
            else if (c >= 'A' && c <= 'F') { v |= (uint32_t) (c - 'A' + 10); }
            else { fail("bad \\u escape"); }
        }
        return v;
    }
    std::string str() {
        if (i >= s.size() || s[i] != '"') { fail("expected string"); }
        ++i;
        std::string out;
        while (true) {
            if (i >= s.size()) { fail("unterminated string"); }
            const char c = s[i++];
            if (c == '"') { return out; }
            if (c != '\\') { out += c; continue; }
            if (i >= s.size()) { fail("unterminated escape"); }
            const char e = s[i++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    uint32_t cp = hex4();
                    if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < s.size() && s[i] == '\\' && s[i + 1] == 'u') {
                        i += 2;
                        const uint32_t lo = hex4();
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    append_utf8(out, cp);
                } break;
                default: fail("bad escape");
            }
        }
    }
    void skip_value() {
        ws();
        if (i >= s.size()) { fail("expected value"); }
        const char c = s[i];
        if (c == '"') { str(); return; }
        if (c == '{' || c == '[') {
            const char close = c == '{' ? '}' : ']';
            ++i;
            ws();
            if (i < s.size() && s[i] == close) { ++i; return; }
            while (true) {
                if (close == '}') { ws(); str(); ws(); if (i >= s.size() || s[i] != ':') { fail("expected ':'"); } ++i; }
                skip_value();
                ws();
                if (i < s.size() && s[i] == ',') { ++i; continue; }
                if (i < s.size() && s[i] == close) { ++i; return; }
                fail("expected ',' or closing bracket");
            }
        }
        while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\n') {
            ++i;
        }
    }
    // returns false when the object has no string "text"
    bool text_field(std::string & out) {
        ws();
        if (i >= s.size() || s[i] != '{') { fail("expected a JSON object"); }
        ++i;
        bool found = false;
        ws();
        if (i < s.size() && s[i] == '}') { return false; }
        while (true) {
            ws();
            const std::string key = str();
            ws();
            if (i >= s.size() || s[i] != ':') { fail("expected ':'"); }
            ++i;
            ws();
            if (key == "text" && i < s.size() && s[i] == '"') {
                out = str();
                found = true;
            } else {
                skip_value();
            }
            ws();
            if (i < s.size() && s[i] == ',') { ++i; continue; }
            if (i < s.size() && s[i] == '}') { ++i; return found; }
            fail("expected ',' or '}'");
        }
    }
};

std::vector<std::string> read_texts(const std::string & path) {
    const std::string content = read_file(path);
    const bool jsonl = path.size() >= 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0;
    if (!jsonl) {
        return {content};
    }
    std::vector<std::string> texts;
    std::stringstream ss(content);
    std::string line;
    size_t lineno = 0;
    while (std::getline(ss, line)) {
        ++lineno;
        if (line.find_first_not_of(" \t\r") == std::string::npos) {
            continue;
        }
        json_reader r{line};
        std::string text;
        try {
            if (!r.text_field(text)) {
                throw std::runtime_error("no string field \"text\"");
            }
        } catch (const std::exception & e) {
            throw usage_error(path + ":" + std::to_string(lineno) + ": " + e.what() +
                              " (each line must be a JSON object like {\"text\": \"...\"})");
        }
        texts.push_back(std::move(text));
    }
    return texts;
}

std::vector<llama_token> tokenize(const llama_vocab * vocab, const std::string & text) {
    std::vector<llama_token> toks(text.size() + 16);
    int32_t n = llama_tokenize(vocab, text.data(), (int32_t) text.size(), toks.data(), (int32_t) toks.size(), true, false);
    if (n < 0) {
        toks.resize(-n);
        n = llama_tokenize(vocab, text.data(), (int32_t) text.size(), toks.data(), (int32_t) toks.size(), true, false);
    }
    if (n < 0) {
        throw std::runtime_error("tokenization failed");
    }
    toks.resize(n);
    return toks;
}

// All texts as one token stream; each text is tokenized on its own and ends with EOS (when the
// vocabulary has one) so windows that straddle two texts see an explicit boundary.
std::vector<llama_token> load_tokens(const llama_vocab * vocab, const std::vector<std::string> & files) {
    std::vector<llama_token> all;
    const llama_token eos = llama_vocab_eos(vocab);
    for (const auto & f : files) {
        for (const auto & text : read_texts(f)) {
            if (text.empty()) {
                continue;
            }
            const auto toks = tokenize(vocab, text);
            all.insert(all.end(), toks.begin(), toks.end());
            if (eos != LLAMA_TOKEN_NULL) {
                all.push_back(eos);
            }
        }
    }
    return all;
}

// ---------------------------------------------------------------------------------------------
// model, adapter

struct model_handle {
    llama_model * model = nullptr;
    ~model_handle() { if (model) { llama_model_free(model); } }
};

struct context_handle {
    llama_context * ctx = nullptr;
    ~context_handle() { if (ctx) { llama_free(ctx); } }
};

// The llama.cpp CPU backend's buffer type that stores weights in interleaved ("repacked") layouts
// with faster matmul kernels, or nullptr when this CPU has none.
ggml_backend_buffer_type_t cpu_repack_buft() {
    ggml_backend_dev_t cpu = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    if (!cpu) {
        return nullptr;
    }
    auto get_extra = (ggml_backend_dev_get_extra_bufts_t)
        ggml_backend_reg_get_proc_address(ggml_backend_dev_backend_reg(cpu), "ggml_backend_dev_get_extra_bufts");
    for (ggml_backend_buffer_type_t * b = get_extra ? get_extra(cpu) : nullptr; b && *b; ++b) {
        if (strcmp(ggml_backend_buft_name(*b), "CPU_REPACK") == 0) {
            return *b;
        }
    }
    return nullptr;
}

// Asks the CPU backend, as llama.cpp's loader does, whether it has a repacked matmul for this weight.
bool repack_supports(ggml_backend_buffer_type_t repack, ggml_type type, int64_t ne0, int64_t ne1) {
    ggml_init_params ip = { /*.mem_size =*/ 8 * ggml_tensor_overhead(), /*.mem_buffer =*/ nullptr, /*.no_alloc =*/ true };
    ggml_context * ctx = ggml_init(ip);
    ggml_tensor * w = ggml_new_tensor_2d(ctx, type, ne0, ne1);
    ggml_tensor * x = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, ne0, 512);
    ggml_tensor * op = ggml_mul_mat(ctx, w, x);
    ggml_backend_buffer_t dummy = ggml_backend_buft_alloc_buffer(repack, 0);
    w->buffer = dummy;
    const bool ok = ggml_backend_dev_supports_op(ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU), op);
    ggml_backend_buffer_free(dummy);
    ggml_free(ctx);
    return ok;
}

int block_of(const std::string & name) {
    int il = -1;
    return sscanf(name.c_str(), "blk.%d.", &il) == 1 ? il : -1;
}

// Blocks of a GGUF model, read from its header before it is loaded (0 when unreadable: the load
// reports the problem).
int model_blocks(const std::string & path) {
    gguf_init_params gp = { /*.no_alloc =*/ true, /*.ctx =*/ nullptr };
    gguf_context * gguf = gguf_init_from_file(path.c_str(), gp);
    if (!gguf) {
        return 0;
    }
    int n = 0;
    const int64_t arch_key = gguf_find_key(gguf, "general.architecture");
    if (arch_key >= 0 && gguf_get_kv_type(gguf, arch_key) == GGUF_TYPE_STRING) {
        const int64_t k = gguf_find_key(gguf, (std::string(gguf_get_val_str(gguf, arch_key)) + ".block_count").c_str());
        if (k >= 0 && gguf_get_kv_type(gguf, k) == GGUF_TYPE_UINT32) {
            n = (int) gguf_get_val_u32(gguf, k);
        }
    }
    gguf_free(gguf);
    return n;
}

// The lowest block an adapter file changes: the backward pass reaches down to it. 0 when it also
// changes a tensor outside the blocks (token_embd) or cannot be read (the load reports it).
int adapter_lowest_block(const std::string & path) {
    gguf_init_params gp = { /*.no_alloc =*/ true, /*.ctx =*/ nullptr };
    gguf_context * gguf = gguf_init_from_file(path.c_str(), gp);
    if (!gguf) {
        return 0;
    }
    int lo = INT32_MAX;
    for (int64_t i = 0; i < gguf_get_n_tensors(gguf); ++i) {
        const int il = block_of(gguf_get_tensor_name(gguf, i));
        lo = std::min(lo, il < 0 ? 0 : il);
    }
    gguf_free(gguf);
    return lo == INT32_MAX ? 0 : lo;
}

long g_repacked = 0; // weights the last load_model put in the repacked layout

// Blocks below `forward_only_blocks` only ever run forward (the backward pass stops at the lowest
// block holding an adapter; eval has none), so their matmul weights get the repacked layout llama.cpp
// serves with, whose kernels are faster. The others stay plain: OUT_PROD, the backward pass through
// a frozen weight, has no kernel for repacked data.
llama_model * load_model(const std::string & path, int forward_only_blocks = 0) {
    FILE * probe = fopen(path.c_str(), "rb");
    if (!probe) {
        throw usage_error("cannot open base model '" + path + "': " + strerror(errno));
    }
    fclose(probe);
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers    = 0;
    // no repacking unless asked for below, tensor by tensor (see above)
    mp.use_extra_bufts = false;

    std::string pattern;
    std::vector<llama_model_tensor_buft_override> overrides;
    g_repacked = 0;
    ggml_backend_buffer_type_t repack = g_no_repack || forward_only_blocks <= 0 ? nullptr : cpu_repack_buft();
    if (repack) {
        ggml_context * meta = nullptr;
        gguf_init_params gp = { /*.no_alloc =*/ true, /*.ctx =*/ &meta };
        if (gguf_context * gguf = gguf_init_from_file(path.c_str(), gp)) {
            static const char * kinds[] = {".attn_q.weight", ".attn_k.weight", ".attn_v.weight", ".attn_output.weight",
                                           ".ffn_gate.weight", ".ffn_up.weight", ".ffn_down.weight"};
            for (ggml_tensor * t = ggml_get_first_tensor(meta); t; t = ggml_get_next_tensor(meta, t)) {
                const std::string name = t->name;
                const int il = block_of(name);
                const bool matmul_weight = std::any_of(std::begin(kinds), std::end(kinds), [&](const char * k) {
                    return name.size() > strlen(k) && name.compare(name.size() - strlen(k), strlen(k), k) == 0;
                });
                if (il < 0 || il >= forward_only_blocks || !matmul_weight || ggml_n_dims(t) != 2 ||
                        !repack_supports(repack, t->type, t->ne[0], t->ne[1])) {
                    continue;
                }
                std::string escaped;
                for (const char c : name) {
                    escaped += c == '.' ? std::string("\\.") : std::string(1, c);
                }
                pattern += (pattern.empty() ? "^(" : "|") + escaped;
                ++g_repacked;
            }
            gguf_free(gguf);
            ggml_free(meta);
        }
        if (!pattern.empty()) {
            pattern += ")$";
            overrides.push_back({pattern.c_str(), repack});
            overrides.push_back({nullptr, nullptr});
            mp.tensor_buft_overrides = overrides.data();
        }
    }
    llama_model * model = llama_model_load_from_file(path.c_str(), mp);
    if (!model) {
        throw usage_error("cannot load base model '" + path + "' (not a llama.cpp GGUF model?)");
    }
    return model;
}

std::string model_meta(const llama_model * model, const char * key) {
    char buf[512];
    const int32_t n = llama_model_meta_val_str(model, key, buf, sizeof(buf));
    return n < 0 ? std::string() : std::string(buf);
}

std::string adapter_meta(const llama_adapter_lora * adapter, const char * key) {
    char buf[512];
    const int32_t n = llama_adapter_meta_val_str(adapter, key, buf, sizeof(buf));
    return n < 0 ? std::string() : std::string(buf);
}

llama_adapter_lora * load_adapter_file(llama_model * model, const std::string & path) {
    FILE * probe = fopen(path.c_str(), "rb");
    if (!probe) {
        throw usage_error("cannot open adapter '" + path + "': " + strerror(errno));
    }
    fclose(probe);
    llama_adapter_lora * adapter = llama_adapter_lora_init(model, path.c_str());
    if (!adapter) {
        throw usage_error("cannot load adapter '" + path + "' (not a LoRA GGUF for this base model?)");
    }
    return adapter;
}

struct lora_target {
    std::string name; // base tensor name, e.g. blk.3.attn_q.weight
    int64_t n_in;
    int64_t n_out;
};

std::vector<lora_target> find_targets(llama_model * model, const std::vector<std::string> & kinds, layer_range layers) {
    std::vector<lora_target> out;
    std::map<std::string, const ggml_tensor *> by_name;
    for (const auto & kv : llama_internal_get_tensor_map(model)) {
        by_name[kv.first] = kv.second;
    }
    const int n_layer = llama_model_n_layer(model);
    for (const auto & kind : kinds) {
        int found = 0;
        for (int il = layers.lo; il <= layers.hi && il < n_layer; ++il) {
            const std::string name = "blk." + std::to_string(il) + "." + kind + ".weight";
            const auto it = by_name.find(name);
            if (it == by_name.end()) {
                continue;
            }
            const ggml_tensor * t = it->second;
            if (ggml_n_dims(t) != 2) {
                throw usage_error("target '" + name + "' is not a matrix");
            }
            out.push_back({name, t->ne[0], t->ne[1]});
            ++found;
        }
        if (found == 0) {
            throw usage_error("target '" + kind + "' matches no tensor blk.N." + kind + ".weight in blocks " +
                              std::to_string(layers.lo) + "-" + std::to_string(layers.hi) + " of the base model");
        }
    }
    return out;
}

// A fresh adapter is generated as an in-memory GGUF and loaded through the regular loader, so it
// ends up in exactly the buffers and layout a file-loaded adapter would have.
llama_adapter_lora * create_adapter(llama_model * model, const options & o, const std::string & arch) {
    const auto targets = find_targets(model, o.targets, parse_layers(o.layers, llama_model_n_layer(model)));

    size_t n_bytes = 0;
    for (const auto & t : targets) {
        n_bytes += (size_t) (t.n_in + t.n_out) * o.rank * sizeof(float);
    }
    ggml_init_params ip = {
        /*.mem_size   =*/ n_bytes + 2 * targets.size() * ggml_tensor_overhead() + 1024,
        /*.mem_buffer =*/ nullptr,
        /*.no_alloc   =*/ false,
    };
    ggml_context * gctx = ggml_init(ip);
    gguf_context * gguf = gguf_init_empty();
    gguf_set_val_str(gguf, "general.architecture", arch.c_str());
    gguf_set_val_str(gguf, "general.type", "adapter");
    gguf_set_val_str(gguf, "adapter.type", "lora");
    gguf_set_val_f32(gguf, "adapter.lora.alpha", o.alpha);

    std::mt19937 rng(o.seed);
    for (const auto & t : targets) {
        ggml_tensor * a = ggml_new_tensor_2d(gctx, GGML_TYPE_F32, t.n_in, o.rank);
        ggml_tensor * b = ggml_new_tensor_2d(gctx, GGML_TYPE_F32, o.rank, t.n_out);
        ggml_set_name(a, (t.name + ".lora_a").c_str());
        ggml_set_name(b, (t.name + ".lora_b").c_str());
        // standard LoRA init (as PEFT): A ~ U(-1/sqrt(in), 1/sqrt(in)), B = 0, so the adapter starts as a no-op
        const float bound = 1.0f / std::sqrt((float) t.n_in);
        std::uniform_real_distribution<float> dist(-bound, bound);
        float * ad = (float *) a->data;
        for (int64_t k = 0; k < ggml_nelements(a); ++k) {
            ad[k] = dist(rng);
        }
        memset(b->data, 0, ggml_nbytes(b));
        gguf_add_tensor(gguf, a);
        gguf_add_tensor(gguf, b);
    }

    FILE * f = tmpfile();
    if (!f) {
        throw std::runtime_error(std::string("tmpfile: ") + strerror(errno));
    }
    const bool ok = gguf_write_to_file_ptr(gguf, f, false);
    gguf_free(gguf);
    ggml_free(gctx);
    if (!ok) {
        fclose(f);
        throw std::runtime_error("cannot serialise the initial adapter");
    }
    rewind(f);
    llama_adapter_lora * adapter = llama_adapter_lora_init_from_file_ptr(model, f);
    fclose(f);
    if (!adapter) {
        throw std::runtime_error("cannot load the initial adapter");
    }
    return adapter;
}

std::vector<std::pair<std::string, llama_adapter_lora_weight>> adapter_weights(const llama_adapter_lora * adapter) {
    std::vector<std::pair<std::string, llama_adapter_lora_weight>> out(adapter->ab_map.begin(), adapter->ab_map.end());
    std::sort(out.begin(), out.end(), [](const auto & x, const auto & y) { return x.first < y.first; });
    return out;
}

int adapter_rank(const llama_adapter_lora * adapter) {
    for (const auto & kv : adapter->ab_map) {
        return (int) kv.second.b->ne[0];
    }
    return 0;
}

// The lowest and highest block an adapter changes (from its tensor names, blk.N.*); {-1, -1} if none.
layer_range adapter_layers(const llama_adapter_lora * adapter) {
    layer_range r{-1, -1};
    for (const auto & kv : adapter->ab_map) {
        int il = -1;
        if (sscanf(kv.first.c_str(), "blk.%d.", &il) == 1 && il >= 0) {
            r.lo = r.lo < 0 ? il : std::min(r.lo, il);
            r.hi = std::max(r.hi, il);
        }
    }
    return r;
}

std::string layers_json(const llama_adapter_lora * adapter, const llama_model * model) {
    const layer_range r = adapter_layers(adapter);
    return ",\"layers\":[" + std::to_string(r.lo) + "," + std::to_string(r.hi) + "],\"modelLayers\":" +
           std::to_string(llama_model_n_layer(model));
}

// Every A and B tensor of the adapter, in a stable (name) order.
struct lora_slot {
    std::string   name; // e.g. blk.3.attn_q.weight.lora_a
    ggml_tensor * t;
    size_t        n;
};

std::vector<lora_slot> lora_slots(const llama_adapter_lora * adapter) {
    std::vector<lora_slot> out;
    for (const auto & kv : adapter_weights(adapter)) {
        for (ggml_tensor * t : {kv.second.a, kv.second.b}) {
            out.push_back({t->name, t, (size_t) ggml_nelements(t)});
        }
    }
    return out;
}

std::vector<std::vector<float>> read_slots(const std::vector<lora_slot> & slots) {
    std::vector<std::vector<float>> out(slots.size());
    for (size_t i = 0; i < slots.size(); ++i) {
        out[i].resize(slots[i].n);
        ggml_backend_tensor_get(slots[i].t, out[i].data(), 0, slots[i].n * sizeof(float));
    }
    return out;
}

void fsync_path(const std::string & path, int flags) {
    const int fd = open(path.c_str(), flags);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

// Fails before hours of training rather than after them when OUT cannot be written.
void check_writable(const std::string & out) {
    const std::string tmp = out + ".tmp-" + std::to_string(getpid());
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        throw usage_error("cannot write '" + out + "': " + strerror(errno) + " (create the directory or pick another --out)");
    }
    close(fd);
    unlink(tmp.c_str());
}

// Written to OUT.tmp-<pid> and renamed over OUT, so readers see the old or the new file, never half.
void write_gguf_atomic(gguf_context * gguf, const std::string & out) {
    const std::string tmp = out + ".tmp-" + std::to_string(getpid());
    if (!gguf_write_to_file(gguf, tmp.c_str(), false)) {
        unlink(tmp.c_str());
        throw usage_error("cannot write '" + tmp + "' (directory missing or not writable?)");
    }
    fsync_path(tmp, O_RDONLY);
    if (rename(tmp.c_str(), out.c_str()) != 0) {
        const std::string err = strerror(errno);
        unlink(tmp.c_str());
        throw usage_error("cannot rename '" + tmp + "' to '" + out + "': " + err);
    }
    const size_t slash = out.find_last_of('/');
    fsync_path(slash == std::string::npos ? "." : out.substr(0, slash + 1), O_RDONLY | O_DIRECTORY);
}

// GGUF with one F32 tensor per slot (same names and shapes as the adapter's tensors).
void write_slot_file(const std::string & out, const std::vector<lora_slot> & slots,
                     const std::vector<std::vector<float>> & data, const std::function<void(gguf_context *)> & set_kv) {
    size_t n_bytes = 0;
    for (const auto & sl : slots) {
        n_bytes += sl.n * sizeof(float);
    }
    ggml_init_params ip = {
        /*.mem_size   =*/ n_bytes + slots.size() * (ggml_tensor_overhead() + 64) + 1024,
        /*.mem_buffer =*/ nullptr,
        /*.no_alloc   =*/ false,
    };
    ggml_context * gctx = ggml_init(ip);
    gguf_context * gguf = gguf_init_empty();
    set_kv(gguf);
    for (size_t i = 0; i < slots.size(); ++i) {
        ggml_tensor * dst = ggml_new_tensor_2d(gctx, GGML_TYPE_F32, slots[i].t->ne[0], slots[i].t->ne[1]);
        ggml_set_name(dst, slots[i].name.c_str());
        memcpy(dst->data, data[i].data(), slots[i].n * sizeof(float));
        gguf_add_tensor(gguf, dst);
    }
    try {
        write_gguf_atomic(gguf, out);
    } catch (...) {
        gguf_free(gguf);
        ggml_free(gctx);
        throw;
    }
    gguf_free(gguf);
    ggml_free(gctx);
}

// Reads the tensors named like the slots from a GGUF (an adapter or an importance file).
std::vector<std::vector<float>> read_slot_file(const std::string & path, const std::vector<lora_slot> & slots,
                                               const char * what, std::map<std::string, std::string> * kv_str = nullptr) {
    ggml_context * gctx = nullptr;
    gguf_init_params gp = { /*.no_alloc =*/ false, /*.ctx =*/ &gctx };
    gguf_context * gguf = gguf_init_from_file(path.c_str(), gp);
    if (!gguf) {
        throw usage_error(std::string("cannot read ") + what + " '" + path + "' (missing or not a GGUF file)");
    }
    std::vector<std::vector<float>> out(slots.size());
    std::string err;
    for (size_t i = 0; i < slots.size() && err.empty(); ++i) {
        const ggml_tensor * t = ggml_get_tensor(gctx, slots[i].name.c_str());
        if (!t) {
            err = "has no tensor '" + slots[i].name + "'";
        } else if (t->type != GGML_TYPE_F32 || (size_t) ggml_nelements(t) != slots[i].n ||
                   t->ne[0] != slots[i].t->ne[0]) {
            err = "tensor '" + slots[i].name + "' has another type or shape than the adapter's";
        } else {
            out[i].assign((const float *) t->data, (const float *) t->data + slots[i].n);
        }
    }
    if (kv_str) {
        for (int64_t k = 0; k < gguf_get_n_kv(gguf); ++k) {
            if (gguf_get_kv_type(gguf, k) == GGUF_TYPE_STRING) {
                (*kv_str)[gguf_get_key(gguf, k)] = gguf_get_val_str(gguf, k);
            }
        }
    }
    gguf_free(gguf);
    ggml_free(gctx);
    if (!err.empty()) {
        throw usage_error(std::string(what) + " '" + path + "' " + err + " (made for another adapter layout?)");
    }
    return out;
}

struct save_info {
    std::string arch;
    std::string base_name;
    long        steps_total;
    long long   tokens_total;
};

void save_adapter(const llama_adapter_lora * adapter, const std::string & out, const save_info & info) {
    const auto slots = lora_slots(adapter);
    write_slot_file(out, slots, read_slots(slots), [&](gguf_context * gguf) {
        gguf_set_val_str(gguf, "general.architecture", info.arch.c_str());
        gguf_set_val_str(gguf, "general.type", "adapter");
        gguf_set_val_str(gguf, "adapter.type", "lora");
        gguf_set_val_f32(gguf, "adapter.lora.alpha", adapter->alpha);
        gguf_set_val_u32(gguf, "npllm.lora.rank", (uint32_t) adapter_rank(adapter));
        gguf_set_val_str(gguf, "npllm.base_model", info.base_name.c_str());
        gguf_set_val_u32(gguf, "npllm.train.steps", (uint32_t) info.steps_total);
        gguf_set_val_u64(gguf, "npllm.train.tokens", (uint64_t) info.tokens_total);
    });
}

// ---------------------------------------------------------------------------------------------
// context, windows

llama_context * make_context(llama_model * model, const options & o, bool training,
                             ggml_backend_sched_eval_callback cb_eval = nullptr, void * cb_eval_ud = nullptr) {
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx             = (uint32_t) o.n_ctx; // llama.cpp pads this to a multiple of 256
    cp.n_batch           = (uint32_t) o.n_ctx;
    cp.n_ubatch          = (uint32_t) o.n_ctx;
    cp.n_seq_max         = 1;
    cp.n_threads         = o.threads;
    cp.n_threads_batch   = o.threads;
    cp.no_perf           = true;
    cp.cb_eval           = cb_eval;
    cp.cb_eval_user_data = cb_eval_ud;
    if (training) {
        // the backward pass needs OUT_PROD of K/V, which has no F16 kernel; FLASH_ATTN_EXT has no backward
        cp.type_k          = GGML_TYPE_F32;
        cp.type_v          = GGML_TYPE_F32;
        cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    }
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        throw std::runtime_error("cannot create a llama context");
    }
    return ctx;
}

// Training and evaluation see the data as consecutive windows of --ctx tokens, each predicting its
// next --ctx tokens from scratch (no context carried over from the previous window).
long count_windows(const std::vector<llama_token> & tokens, int n_ctx) {
    return tokens.size() > (size_t) n_ctx ? (long) ((tokens.size() - 1) / n_ctx) : 0;
}

// llama_opt_epoch takes datapoints of the padded context size; with n_ctx_train = --ctx it trains on
// the first --ctx tokens only, so one call on this 1-datapoint dataset = one window = one step.
struct window_feed {
    ggml_opt_dataset_t ds = nullptr;
    llama_token * data   = nullptr;
    llama_token * labels = nullptr;
    int n_ctx = 0;

    window_feed(llama_context * ctx, int n_ctx_) : n_ctx(n_ctx_) {
        const int padded = (int) llama_n_ctx(ctx);
        if (padded % n_ctx != 0) {
            throw usage_error("--ctx " + std::to_string(n_ctx) + " does not divide the padded context of " +
                              std::to_string(padded) + " tokens (use 32, 64, 128, 256 or a multiple of 256)");
        }
        ds = ggml_opt_dataset_init(GGML_TYPE_I32, GGML_TYPE_I32, padded, padded, 1, 1);
        data   = (llama_token *) ggml_opt_dataset_data(ds)->data;
        labels = (llama_token *) ggml_opt_dataset_labels(ds)->data;
        memset(data, 0, ggml_nbytes(ggml_opt_dataset_data(ds)));
        memset(labels, 0, ggml_nbytes(ggml_opt_dataset_labels(ds)));
    }
    ~window_feed() { ggml_opt_dataset_free(ds); }

    void set(const std::vector<llama_token> & tokens, long window) {
        const size_t off = (size_t) window * n_ctx;
        for (int j = 0; j < n_ctx; ++j) {
            data[j]   = tokens[off + j];
            labels[j] = tokens[off + j + 1];
        }
    }
};

// ---------------------------------------------------------------------------------------------
// MAS penalty: lambda * sum(Omega * (theta - theta*)^2), applied as a decoupled proximal step after
// each AdamW update (like AdamW's weight decay): theta <- (theta + c*theta*) / (1 + c),
// c = 2 * lr * lambda * Omega. Omega is divided by its mean so lambda does not depend on the scale
// of the logits.

struct mas_penalty {
    float lambda = 0.0f;
    std::vector<lora_slot> slots;
    std::vector<std::vector<float>> omega, anchor, theta;

    void apply(float lr) {
        for (size_t i = 0; i < slots.size(); ++i) {
            ggml_backend_tensor_get(slots[i].t, theta[i].data(), 0, slots[i].n * sizeof(float));
            for (size_t k = 0; k < slots[i].n; ++k) {
                const float c = 2.0f * lr * lambda * omega[i][k];
                theta[i][k] = (theta[i][k] + c * anchor[i][k]) / (1.0f + c);
            }
            ggml_backend_tensor_set(slots[i].t, theta[i].data(), 0, slots[i].n * sizeof(float));
        }
    }
    // after apply(): theta holds the current parameters
    double value() const {
        double sum = 0.0;
        for (size_t i = 0; i < slots.size(); ++i) {
            for (size_t k = 0; k < slots[i].n; ++k) {
                const double d = (double) theta[i][k] - anchor[i][k];
                sum += omega[i][k] * d * d;
            }
        }
        return lambda * sum;
    }
};

void load_mas_penalty(mas_penalty & mp, const options & o, const llama_adapter_lora * adapter) {
    mp.lambda = o.mas_lambda;
    mp.slots  = lora_slots(adapter);
    mp.omega  = read_slot_file(o.mas_importance, mp.slots, "importance file");
    double sum = 0.0;
    size_t n = 0;
    for (const auto & v : mp.omega) {
        for (const float x : v) {
            sum += x;
        }
        n += v.size();
    }
    const double mean = n > 0 ? sum / n : 0.0;
    if (!(mean > 0.0)) {
        throw usage_error("importance file '" + o.mas_importance + "' is all zeros (computed on an untrained adapter?)");
    }
    for (auto & v : mp.omega) {
        for (float & x : v) {
            x = (float) (x / mean);
        }
    }
    // theta* is the adapter training starts from, unless another one is named
    mp.anchor = o.mas_anchor.empty() ? read_slots(mp.slots) : read_slot_file(o.mas_anchor, mp.slots, "anchor adapter");
    mp.theta  = mp.anchor;
}

// ---------------------------------------------------------------------------------------------
// training

struct lr_schedule {
    float lr, lr_min, beta1, beta2, wd;
    long  warmup, total;
    long  step = 0; // 0-based index of the step being computed

    float at(long s) const {
        if (warmup > 0 && s < warmup) {
            return lr * (float) (s + 1) / (float) warmup;
        }
        if (lr_min < 0.0f || total <= warmup + 1) {
            return lr;
        }
        const float t = (float) (s - warmup) / (float) (total - warmup - 1);
        return lr + (lr_min - lr) * std::min(1.0f, std::max(0.0f, t));
    }
};

ggml_opt_optimizer_params get_adamw_pars(void * ud) {
    const auto * sch = (const lr_schedule *) ud;
    ggml_opt_optimizer_params p = ggml_opt_get_default_optimizer_params(nullptr);
    p.adamw.alpha = sch->at(sch->step);
    p.adamw.beta1 = sch->beta1;
    p.adamw.beta2 = sch->beta2;
    p.adamw.eps   = 1e-8f;
    p.adamw.wd    = sch->wd;
    return p;
}

bool no_model_params(const ggml_tensor *, void *) {
    return false; // the base stays frozen; only the adapter tensors (flagged by the caller) train
}

void opt_init(llama_context * ctx, llama_model * model, int n_ctx, ggml_opt_optimizer_type type,
              ggml_opt_get_optimizer_params get_pars, void * ud) {
    llama_opt_params op{};
    op.n_ctx_train     = (uint32_t) n_ctx;
    op.param_filter    = no_model_params;
    op.param_filter_ud = nullptr;
    op.get_opt_pars    = get_pars;
    op.get_opt_pars_ud = ud;
    op.optimizer_type  = type;
    llama_opt_init(ctx, model, op);
}

std::string base_name_of(const llama_model * model, const std::string & path) {
    std::string name = model_meta(model, "general.name");
    if (name.empty()) {
        const size_t slash = path.find_last_of('/');
        name = slash == std::string::npos ? path : path.substr(slash + 1);
    }
    return name;
}

long mark_trainable(llama_adapter_lora * adapter) {
    long n_params = 0;
    for (auto & kv : adapter->ab_map) {
        ggml_set_param(kv.second.a);
        ggml_set_param(kv.second.b);
        n_params += ggml_nelements(kv.second.a) + ggml_nelements(kv.second.b);
    }
    return n_params;
}

int run_train(const options & o) {
    check_writable(o.out);
    int forward_only = 0;
    if (!o.adapter_in.empty()) {
        forward_only = adapter_lowest_block(o.adapter_in);
    } else if (const int n_blocks = model_blocks(o.model); n_blocks > 0) {
        forward_only = parse_layers(o.layers, n_blocks).lo;
    }
    model_handle mh;
    mh.model = load_model(o.model, forward_only);
    llama_model * model = mh.model;
    const std::string arch = model_meta(model, "general.architecture");

    llama_adapter_lora * adapter = nullptr;
    long      steps_before  = 0;
    long long tokens_before = 0;
    if (!o.adapter_in.empty()) {
        adapter = load_adapter_file(model, o.adapter_in);
        steps_before  = atol(adapter_meta(adapter, "npllm.train.steps").c_str());
        tokens_before = atoll(adapter_meta(adapter, "npllm.train.tokens").c_str());
    } else {
        adapter = create_adapter(model, o, arch);
    }
    const long n_params = mark_trainable(adapter);

    mas_penalty mas;
    if (o.mas_lambda > 0.0f) {
        load_mas_penalty(mas, o, adapter);
    }

    const double t_prep0 = now_ms();
    const auto tokens = load_tokens(llama_model_get_vocab(model), o.data);
    const long n_windows = count_windows(tokens, o.n_ctx);
    if (n_windows < 1) {
        throw usage_error("training data has " + std::to_string(tokens.size()) + " tokens; need at least --ctx + 1 = " +
                          std::to_string(o.n_ctx + 1) + " (add text or lower --ctx)");
    }

    context_handle ch;
    ch.ctx = make_context(model, o, true);
    llama_context * ctx = ch.ctx;
    window_feed feed(ctx, o.n_ctx);
    float scale = 1.0f;
    if (llama_set_adapters_lora(ctx, &adapter, 1, &scale) != 0) {
        throw std::runtime_error("cannot attach the adapter to the context");
    }

    const long total_steps = o.steps >= 0 ? o.steps : (long) o.epochs * n_windows;
    lr_schedule sch{o.lr, o.lr_min, o.beta1, o.beta2, o.wd, o.warmup, total_steps};
    opt_init(ctx, model, o.n_ctx, GGML_OPT_OPTIMIZER_TYPE_ADAMW, get_adamw_pars, &sch);

    ggml_opt_result_t result      = ggml_opt_result_init();
    ggml_opt_result_t result_eval = ggml_opt_result_init();

    emit(std::string("{\"type\":\"start\",\"mode\":\"train\"") +
         ",\"dataTokens\":" + std::to_string(tokens.size()) +
         ",\"windows\":" + std::to_string(n_windows) +
         ",\"ctx\":" + std::to_string(o.n_ctx) +
         ",\"totalSteps\":" + std::to_string(total_steps) +
         ",\"rank\":" + std::to_string(adapter_rank(adapter)) +
         ",\"alpha\":" + json_num(adapter->alpha) +
         ",\"loraTensors\":" + std::to_string(adapter->ab_map.size() * 2) +
         layers_json(adapter, model) +
         ",\"repackedWeights\":" + std::to_string(g_repacked) +
         ",\"trainableParams\":" + std::to_string(n_params) +
         ",\"threads\":" + std::to_string(o.threads) +
         ",\"resumedSteps\":" + std::to_string(steps_before) +
         ",\"masLambda\":" + json_num(o.mas_lambda) +
         ",\"prepMs\":" + json_num(std::round(now_ms() - t_prep0)) + "}");

    save_info info{arch, base_name_of(model, o.model), steps_before, tokens_before};

    std::mt19937 rng(o.seed ^ 0x9E3779B9u);
    std::vector<long> order(n_windows);
    long step = 0;
    long long n_tok = 0;
    long next_save = o.save_every > 0 ? o.save_every : -1;
    double last_loss = NAN;
    std::string stop_reason = "complete";
    const double t0 = now_ms();
    for (int epoch = 0; step < total_steps && stop_reason == "complete"; ++epoch) {
        for (long k = 0; k < n_windows; ++k) {
            order[k] = k;
        }
        if (o.shuffle) {
            std::shuffle(order.begin(), order.end(), rng);
        }
        for (long k = 0; k < n_windows && step < total_steps; ++k) {
            if (g_stop.load()) {
                stop_reason = "signal";
                break;
            }
            feed.set(tokens, order[k]);
            sch.step = step;
            const float lr_now = sch.at(step);
            llama_opt_epoch(ctx, feed.ds, result, result_eval, /*idata_split =*/ 1, nullptr, nullptr);
            double loss = NAN, unc = NAN;
            ggml_opt_result_loss(result, &loss, &unc);
            ggml_opt_result_reset(result);
            ++step;
            n_tok += o.n_ctx;
            last_loss = loss;
            std::string extra;
            if (o.mas_lambda > 0.0f) {
                mas.apply(lr_now);
                extra = ",\"penalty\":" + json_num(mas.value());
            }
            emit(std::string("{\"type\":\"step\",\"step\":") + std::to_string(step) +
                 ",\"epoch\":" + std::to_string(epoch) +
                 ",\"loss\":" + json_num(loss) + extra +
                 ",\"lr\":" + json_num(lr_now) +
                 ",\"tokens\":" + std::to_string(n_tok) +
                 ",\"elapsedMs\":" + json_num(std::round(now_ms() - t0)) + "}");
            if (!std::isfinite(loss)) {
                stop_reason = "diverged";
                break;
            }
            if (next_save > 0 && step >= next_save && step < total_steps) {
                next_save += o.save_every;
                info.steps_total  = steps_before + step;
                info.tokens_total = tokens_before + n_tok;
                save_adapter(adapter, o.out, info);
                emit("{\"type\":\"checkpoint\",\"step\":" + std::to_string(step) + ",\"out\":\"" + json_escape(o.out) + "\"}");
            }
        }
    }
    const double elapsed = now_ms() - t0;
    ggml_opt_result_free(result);
    ggml_opt_result_free(result_eval);

    if (stop_reason == "diverged") {
        emit("{\"type\":\"error\",\"code\":\"diverged\",\"message\":\"loss is not finite; adapter not written (lower --lr)\"}");
        return 2;
    }
    info.steps_total  = steps_before + step;
    info.tokens_total = tokens_before + n_tok;
    save_adapter(adapter, o.out, info);
    emit(std::string("{\"type\":\"done\",\"stopped\":\"") + stop_reason + "\"" +
         ",\"steps\":" + std::to_string(step) +
         ",\"tokens\":" + std::to_string(n_tok) +
         ",\"loss\":" + json_num(last_loss) +
         ",\"elapsedMs\":" + json_num(std::round(elapsed)) +
         ",\"tokensPerSecond\":" + json_num(elapsed > 0 ? n_tok / (elapsed / 1000.0) : NAN) +
         ",\"peakRssMb\":" + json_num(peak_rss_mb()) +
         ",\"out\":\"" + json_escape(o.out) + "\"}");
    return 0;
}

// ---------------------------------------------------------------------------------------------
// MAS importance: Omega = mean over windows of |d(mean_t ||logits_t||^2) / d theta| for every LoRA
// parameter. ggml_opt builds the usual cross-entropy training graph; an eval callback replaces the
// gradient the cross-entropy backward node emits with d/dlogits of the squared logit norm, and reads
// each LoRA gradient where the optimizer node consumes it. The optimizer is SGD with a learning rate
// far below float resolution, so the adapter does not move.

struct importance_state {
    std::map<std::string, size_t>   slot_of;
    std::vector<std::vector<double>> abs_grad_sum;
    bool                            keep_last = false; // gradcheck: also keep the signed gradient
    std::vector<std::vector<float>> last_grad;         // of the last window, per slot
    std::vector<float>              scratch;
    long   samples = 0;
    double sq_norm_sum = 0.0;
    double last_sq_norm = 0.0;
    bool   failed = false;
};

bool importance_cb(ggml_tensor * t, bool ask, void * ud) {
    auto & st = *(importance_state *) ud;
    const bool is_ce_back = t->op == GGML_OP_CROSS_ENTROPY_LOSS_BACK;
    const bool is_lora_step = t->op == GGML_OP_OPT_STEP_SGD && st.slot_of.count(t->src[0]->name) > 0;
    if (ask) {
        return is_ce_back || is_lora_step;
    }
    if (is_ce_back) {
        const ggml_tensor * logits = t->src[1];
        if (logits->type != GGML_TYPE_F32 || t->type != GGML_TYPE_F32 || !ggml_is_contiguous(logits) || !ggml_is_contiguous(t)) {
            st.failed = true;
            return false;
        }
        const int64_t n = ggml_nelements(logits);
        const int64_t n_tok = ggml_nrows(logits);
        st.scratch.resize(n);
        ggml_backend_tensor_get(logits, st.scratch.data(), 0, n * sizeof(float));
        double sq = 0.0;
        for (int64_t i = 0; i < n; ++i) {
            sq += (double) st.scratch[i] * st.scratch[i];
            st.scratch[i] = 2.0f * st.scratch[i] / (float) n_tok;
        }
        ggml_backend_tensor_set(t, st.scratch.data(), 0, n * sizeof(float));
        st.last_sq_norm = sq / n_tok;
        st.sq_norm_sum += st.last_sq_norm;
        ++st.samples;
        return true;
    }
    if (is_lora_step) {
        const ggml_tensor * grad = t->src[1];
        const size_t i = st.slot_of[t->src[0]->name];
        const int64_t n = ggml_nelements(grad);
        if (grad->type != GGML_TYPE_F32 || (size_t) n != st.abs_grad_sum[i].size()) {
            st.failed = true;
            return false;
        }
        st.scratch.resize(n);
        ggml_backend_tensor_get(grad, st.scratch.data(), 0, n * sizeof(float));
        auto & acc = st.abs_grad_sum[i];
        for (int64_t k = 0; k < n; ++k) {
            acc[k] += std::fabs(st.scratch[k]);
        }
        if (st.keep_last) {
            st.last_grad[i].assign(st.scratch.begin(), st.scratch.begin() + n);
        }
    }
    return true;
}

ggml_opt_optimizer_params get_probe_pars(void *) {
    ggml_opt_optimizer_params p = ggml_opt_get_default_optimizer_params(nullptr);
    p.sgd.alpha = 1e-30f;
    p.sgd.wd    = 0.0f;
    return p;
}

// A training context over the adapter with importance_cb and the probe SGD: run(window) adds
// |d(mean_t ||logits_t||^2)/d theta| of that window to st.abs_grad_sum. The importance mode and
// gradcheck both use it, so the check covers the code Omega comes from.
struct importance_probe {
    importance_state st;
    context_handle   ch;
    std::unique_ptr<window_feed> feed;
    ggml_opt_result_t result      = nullptr;
    ggml_opt_result_t result_eval = nullptr;

    importance_probe(llama_model * model, llama_adapter_lora * adapter, const std::vector<lora_slot> & slots,
                     const options & o, bool keep_last = false) {
        st.keep_last = keep_last;
        st.abs_grad_sum.resize(slots.size());
        st.last_grad.resize(keep_last ? slots.size() : 0);
        for (size_t i = 0; i < slots.size(); ++i) {
            st.slot_of[slots[i].name] = i;
            st.abs_grad_sum[i].assign(slots[i].n, 0.0);
        }
        ch.ctx = make_context(model, o, true, importance_cb, &st);
        feed = std::make_unique<window_feed>(ch.ctx, o.n_ctx);
        float scale = 1.0f;
        if (llama_set_adapters_lora(ch.ctx, &adapter, 1, &scale) != 0) {
            throw std::runtime_error("cannot attach the adapter to the context");
        }
        opt_init(ch.ctx, model, o.n_ctx, GGML_OPT_OPTIMIZER_TYPE_SGD, get_probe_pars, nullptr);
        result      = ggml_opt_result_init();
        result_eval = ggml_opt_result_init();
    }
    ~importance_probe() {
        ggml_opt_result_free(result);
        ggml_opt_result_free(result_eval);
    }
    importance_probe(const importance_probe &) = delete; // st's address is the callback's user data
    importance_probe & operator=(const importance_probe &) = delete;

    void run(const std::vector<llama_token> & tokens, long window) {
        feed->set(tokens, window);
        const long samples_before = st.samples;
        llama_opt_epoch(ch.ctx, feed->ds, result, result_eval, /*idata_split =*/ 1, nullptr, nullptr);
        ggml_opt_result_reset(result);
        if (st.failed || st.samples != samples_before + 1) {
            throw std::runtime_error("the training graph did not expose the expected cross-entropy/optimizer nodes "
                                     "(llama.cpp changed? see native/README.md, MAS importance)");
        }
    }
};

int run_importance(const options & o) {
    check_writable(o.out);
    model_handle mh;
    mh.model = load_model(o.model, adapter_lowest_block(o.adapter_in));
    llama_model * model = mh.model;
    const std::string arch = model_meta(model, "general.architecture");

    llama_adapter_lora * adapter = load_adapter_file(model, o.adapter_in);
    mark_trainable(adapter);
    const auto slots = lora_slots(adapter);
    const auto theta0 = read_slots(slots);

    const auto tokens = load_tokens(llama_model_get_vocab(model), o.data);
    long n_windows = count_windows(tokens, o.n_ctx);
    if (o.max_windows >= 0) {
        n_windows = std::min(n_windows, o.max_windows);
    }
    if (n_windows < 1) {
        throw usage_error("importance data has " + std::to_string(tokens.size()) + " tokens; need at least --ctx + 1 = " +
                          std::to_string(o.n_ctx + 1));
    }

    importance_probe probe(model, adapter, slots, o);
    const importance_state & st = probe.st;
    emit(std::string("{\"type\":\"start\",\"mode\":\"importance\"") +
         ",\"dataTokens\":" + std::to_string(tokens.size()) +
         ",\"windows\":" + std::to_string(n_windows) +
         ",\"ctx\":" + std::to_string(o.n_ctx) +
         ",\"loraTensors\":" + std::to_string(slots.size()) +
         layers_json(adapter, model) +
         ",\"repackedWeights\":" + std::to_string(g_repacked) + "}");
    const double t0 = now_ms();
    std::string stop_reason = "complete";
    for (long w = 0; w < n_windows; ++w) {
        if (g_stop.load()) {
            stop_reason = "signal";
            break;
        }
        probe.run(tokens, w);
        emit("{\"type\":\"sample\",\"sample\":" + std::to_string(st.samples) +
             ",\"sqNorm\":" + json_num(st.last_sq_norm) +
             ",\"tokens\":" + std::to_string((long long) st.samples * o.n_ctx) +
             ",\"elapsedMs\":" + json_num(std::round(now_ms() - t0)) + "}");
    }

    // the probe steps are far below float resolution; check that the adapter really did not move
    double max_drift = 0.0;
    const auto theta1 = read_slots(slots);
    for (size_t i = 0; i < slots.size(); ++i) {
        for (size_t k = 0; k < slots[i].n; ++k) {
            max_drift = std::max(max_drift, (double) std::fabs(theta1[i][k] - theta0[i][k]));
        }
    }

    std::vector<std::vector<float>> omega(slots.size());
    double sum = 0.0, mx = 0.0;
    size_t n_total = 0;
    for (size_t i = 0; i < slots.size(); ++i) {
        omega[i].resize(slots[i].n);
        for (size_t k = 0; k < slots[i].n; ++k) {
            omega[i][k] = st.samples > 0 ? (float) (st.abs_grad_sum[i][k] / st.samples) : 0.0f;
            sum += omega[i][k];
            mx = std::max(mx, (double) omega[i][k]);
        }
        n_total += slots[i].n;
    }
    const std::string adapter_name = o.adapter_in.substr(o.adapter_in.find_last_of('/') + 1);
    write_slot_file(o.out, slots, omega, [&](gguf_context * gguf) {
        gguf_set_val_str(gguf, "general.architecture", arch.c_str());
        gguf_set_val_str(gguf, "general.type", "npllm.mas_importance");
        gguf_set_val_str(gguf, "npllm.mas.output", "mean_t ||logits_t||^2");
        gguf_set_val_str(gguf, "npllm.mas.adapter", adapter_name.c_str());
        gguf_set_val_u32(gguf, "npllm.mas.samples", (uint32_t) st.samples);
        gguf_set_val_u32(gguf, "npllm.mas.ctx", (uint32_t) o.n_ctx);
        gguf_set_val_f32(gguf, "npllm.mas.mean", (float) (n_total ? sum / n_total : 0.0));
    });
    emit(std::string("{\"type\":\"done\",\"stopped\":\"") + stop_reason + "\"" +
         ",\"samples\":" + std::to_string(st.samples) +
         ",\"meanSqNorm\":" + json_num(st.samples ? st.sq_norm_sum / st.samples : NAN) +
         ",\"omegaMean\":" + json_num(n_total ? sum / n_total : NAN) +
         ",\"omegaMax\":" + json_num(mx) +
         ",\"adapterDrift\":" + json_num(max_drift) +
         ",\"elapsedMs\":" + json_num(std::round(now_ms() - t0)) +
         ",\"peakRssMb\":" + json_num(peak_rss_mb()) +
         ",\"out\":\"" + json_escape(o.out) + "\"}");
    return 0;
}

// ---------------------------------------------------------------------------------------------
// gradcheck: the importance gradient and the MAS penalty against central finite differences.
// Only meaningful on an F32 base: over quantized weights the CPU forward quantizes activations,
// so the objective is piecewise constant in the adapter (see native/README.md, MAS).

// f(theta) = 1/T sum_t ||logits_t||^2 of one window through the inference path (llama_decode), the
// value the importance probe differentiates in the training graph. F32 KV cache and no flash
// attention (make_context's training settings), so nothing on the way is rounded to F16.
struct sq_norm_objective {
    context_handle ch;
    llama_batch    batch;
    int            n_ctx, n_vocab;

    sq_norm_objective(llama_model * model, llama_adapter_lora * adapter, const options & o)
        : batch(llama_batch_init(o.n_ctx, 0, 1)), n_ctx(o.n_ctx),
          n_vocab(llama_vocab_n_tokens(llama_model_get_vocab(model))) {
        ch.ctx = make_context(model, o, true);
        float scale = 1.0f;
        if (llama_set_adapters_lora(ch.ctx, &adapter, 1, &scale) != 0) {
            throw std::runtime_error("cannot attach the adapter to the context");
        }
    }
    ~sq_norm_objective() { llama_batch_free(batch); }
    sq_norm_objective(const sq_norm_objective &) = delete;
    sq_norm_objective & operator=(const sq_norm_objective &) = delete;

    double operator()(const std::vector<llama_token> & tokens, long window) {
        llama_memory_clear(llama_get_memory(ch.ctx), true);
        batch.n_tokens = n_ctx;
        for (int j = 0; j < n_ctx; ++j) {
            batch.token[j]     = tokens[(size_t) window * n_ctx + j];
            batch.pos[j]       = j;
            batch.n_seq_id[j]  = 1;
            batch.seq_id[j][0] = 0;
            batch.logits[j]    = true;
        }
        if (llama_decode(ch.ctx, batch) != 0) {
            throw std::runtime_error("llama_decode failed");
        }
        double sq = 0.0;
        for (int j = 0; j < n_ctx; ++j) {
            const float * logits = llama_get_logits_ith(ch.ctx, j);
            for (int v = 0; v < n_vocab; ++v) {
                sq += (double) logits[v] * logits[v];
            }
        }
        return sq / n_ctx;
    }
};

struct checked_param {
    size_t slot;
    size_t index;
};

// K parameters over all A and B tensors: parameter k takes lora_a when k is even and lora_b when odd,
// of target (k/2) mod targets, so 2 x targets parameters cover every tensor once. Within a tensor it
// takes the largest |analytic gradient| of 8 seeded random candidates: a gradient near 0 is swamped by
// F32 rounding in the finite difference and its relative error says nothing (a wrong analytic value
// still shows, whether too large, too small or 0).
std::vector<checked_param> pick_params(const std::vector<lora_slot> & slots, const std::vector<std::vector<float>> & grad,
                                       long k_params, uint32_t seed) {
    std::mt19937 rng(seed);
    const size_t n_targets = slots.size() / 2;
    const size_t n_pairs_wanted = (size_t) (k_params + 1) / 2;
    std::vector<checked_param> out;
    for (long k = 0; k < k_params; ++k) {
        const size_t pair = n_pairs_wanted >= n_targets ? (size_t) (k / 2) % n_targets : (size_t) (k / 2) * n_targets / n_pairs_wanted;
        const size_t slot = 2 * pair + (size_t) (k % 2);
        std::uniform_int_distribution<size_t> pick(0, slots[slot].n - 1);
        long best = -1;
        for (int c = 0; c < 8; ++c) {
            const size_t idx = pick(rng);
            const bool taken = std::any_of(out.begin(), out.end(), [&](const checked_param & p) { return p.slot == slot && p.index == idx; });
            if (!taken && (best < 0 || std::fabs(grad[slot][idx]) > std::fabs(grad[slot][best]))) {
                best = (long) idx;
            }
        }
        if (best >= 0) {
            out.push_back({slot, (size_t) best});
        }
    }
    return out;
}

double rel_error(double analytic, double numeric) {
    const double scale = std::max(std::fabs(analytic), std::fabs(numeric));
    return scale > 0.0 ? std::fabs(analytic - numeric) / scale : 0.0;
}

struct error_stats {
    std::vector<double> v;
    std::string json() const {
        if (v.empty()) {
            return "null";
        }
        std::vector<double> s = v;
        std::sort(s.begin(), s.end());
        return "{\"max\":" + json_num(s.back(), 4) + ",\"median\":" + json_num(s[s.size() / 2], 4) +
               ",\"count\":" + std::to_string(s.size()) + "}";
    }
};

int run_gradcheck(const options & o) {
    model_handle mh;
    mh.model = load_model(o.model);
    llama_model * model = mh.model;
    for (const auto & kv : llama_internal_get_tensor_map(model)) {
        if (kv.second->type != GGML_TYPE_F32) {
            throw usage_error("gradcheck needs a base with F32 weights only; '" + kv.first + "' is " + ggml_type_name(kv.second->type) +
                              " (over quantized or F16 weights the forward rounds activations, so finite differences mean nothing)");
        }
    }

    llama_adapter_lora * adapter = load_adapter_file(model, o.adapter_in);
    mark_trainable(adapter);
    const auto slots = lora_slots(adapter);
    const auto theta0 = read_slots(slots);
    auto restore = [&]() {
        for (size_t i = 0; i < slots.size(); ++i) {
            ggml_backend_tensor_set(slots[i].t, theta0[i].data(), 0, slots[i].n * sizeof(float));
        }
    };

    const auto tokens = load_tokens(llama_model_get_vocab(model), o.data);
    if (o.gc_window >= count_windows(tokens, o.n_ctx)) {
        throw usage_error("gradcheck data has " + std::to_string(count_windows(tokens, o.n_ctx)) + " windows of --ctx " +
                          std::to_string(o.n_ctx) + " tokens; --window " + std::to_string(o.gc_window) + " is not one of them");
    }
    emit(std::string("{\"type\":\"start\",\"mode\":\"gradcheck\"") +
         ",\"dataTokens\":" + std::to_string(tokens.size()) +
         ",\"window\":" + std::to_string(o.gc_window) +
         ",\"ctx\":" + std::to_string(o.n_ctx) +
         ",\"loraTensors\":" + std::to_string(slots.size()) +
         ",\"params\":" + std::to_string(o.gc_params) +
         ",\"eps\":" + json_num(o.gc_eps) + "}");
    const double t0 = now_ms();

    // (a) importance: the probe's gradient for one window (the |.| of which Omega averages) ...
    // (the inference context first: opt_init sets the model's n_ctx_train to --ctx)
    sq_norm_objective objective(model, adapter, o);
    importance_probe probe(model, adapter, slots, o, /*keep_last =*/ true);
    probe.run(tokens, o.gc_window);
    double drift = 0.0;
    const auto theta1 = read_slots(slots);
    for (size_t i = 0; i < slots.size(); ++i) {
        for (size_t k = 0; k < slots[i].n; ++k) {
            drift = std::max(drift, (double) std::fabs(theta1[i][k] - theta0[i][k]));
        }
    }
    restore();
    const auto & grad = probe.st.last_grad;
    const double f0 = objective(tokens, o.gc_window);

    std::vector<std::vector<float>> omega_raw;
    if (o.mas_lambda > 0.0f) {
        omega_raw = read_slot_file(o.mas_importance, slots, "importance file");
    }

    // ... against finite differences of f through the inference path
    const auto params = pick_params(slots, grad, o.gc_params, o.seed);
    auto param_head = [&](const char * check, const checked_param & p) {
        return std::string("{\"type\":\"param\",\"check\":\"") + check + "\",\"tensor\":\"" + json_escape(slots[p.slot].name) +
               "\",\"index\":" + std::to_string(p.index);
    };
    error_stats imp_err;
    for (const auto & p : params) {
        const float x  = theta0[p.slot][p.index];
        auto f_at = [&](float v) {
            ggml_backend_tensor_set(slots[p.slot].t, &v, p.index * sizeof(float), sizeof(float));
            return objective(tokens, o.gc_window);
        };
        // central differences at steps h and 2h (as float actually took them), combined to fourth order
        // (Richardson): the F32 forward's rounding noise grows as 1/h, so a large h is what makes the
        // finite difference precise, and the fourth-order combination keeps its truncation error small
        const float h1u = x + (float) o.gc_eps, h1d = x - (float) o.gc_eps;
        const float h2u = x + 2.0f * (float) o.gc_eps, h2d = x - 2.0f * (float) o.gc_eps;
        const double d1 = (f_at(h1u) - f_at(h1d)) / ((double) h1u - (double) h1d);
        const double d2 = (f_at(h2u) - f_at(h2d)) / ((double) h2u - (double) h2d);
        const double numeric = (4.0 * d1 - d2) / 3.0;
        ggml_backend_tensor_set(slots[p.slot].t, &x, p.index * sizeof(float), sizeof(float));
        const double analytic = grad[p.slot][p.index];
        imp_err.v.push_back(rel_error(analytic, numeric));
        emit(param_head("importance", p) +
             ",\"theta\":" + json_num(x, 9) +
             ",\"analytic\":" + json_num(analytic, 9) +
             ",\"numeric\":" + json_num(numeric, 9) +
             ",\"relError\":" + json_num(imp_err.v.back(), 4) +
             (omega_raw.empty() ? "" : ",\"omega\":" + json_num(omega_raw[p.slot][p.index], 9)) + "}");
    }

    // (b) penalty P = lambda sum Omega^ (theta - theta*)^2 as the trainer evaluates it (mas_penalty)
    error_stats pen_err, prox_res, prox_ulps;
    double moved_min = 1.0, moved_max = 0.0;
    if (o.mas_lambda > 0.0f) {
        mas_penalty mas;
        load_mas_penalty(mas, o, adapter);
        const double lambda = mas.lambda, lr = o.lr;
        mas.theta = theta0;
        for (const auto & p : params) {
            float & x = mas.theta[p.slot][p.index];
            const float x0 = x, up = x0 + (float) o.gc_eps, dn = x0 - (float) o.gc_eps;
            x = up;
            const double v_up = mas.value();
            x = dn;
            const double v_dn = mas.value();
            x = x0;
            const double numeric  = (v_up - v_dn) / ((double) up - (double) dn);
            const double analytic = 2.0 * lambda * mas.omega[p.slot][p.index] * ((double) x0 - mas.anchor[p.slot][p.index]);
            pen_err.v.push_back(rel_error(analytic, numeric));
            emit(param_head("penalty", p) +
                 ",\"theta\":" + json_num(x0, 9) + ",\"anchor\":" + json_num(mas.anchor[p.slot][p.index], 9) +
                 ",\"omegaNorm\":" + json_num(mas.omega[p.slot][p.index], 6) +
                 ",\"analytic\":" + json_num(analytic, 9) + ",\"numeric\":" + json_num(numeric, 9) +
                 ",\"relError\":" + json_num(pen_err.v.back(), 4) + "}");
        }

        // The proximal step from a = theta0 (the "AdamW result") must land on the minimiser of
        // J(theta) = 1/(2 lr) ||theta - a||^2 + P(theta), where dJ/dtheta = 0. The residual is
        // measured against the two terms it balances, which are of the size of the pull itself.
        mas.apply((float) lr);
        const auto & a = theta0;
        const auto & res = mas.theta;
        auto J = [&]() {
            double prox = 0.0;
            for (size_t i = 0; i < slots.size(); ++i) {
                for (size_t k = 0; k < slots[i].n; ++k) {
                    const double d = (double) mas.theta[i][k] - a[i][k];
                    prox += d * d;
                }
            }
            return prox / (2.0 * lr) + mas.value();
        };
        auto terms = [&](size_t i, size_t k) {
            const double pull = ((double) res[i][k] - a[i][k]) / lr;
            const double back = 2.0 * lambda * mas.omega[i][k] * ((double) res[i][k] - mas.anchor[i][k]);
            return std::make_pair(pull, back);
        };
        // every parameter: J is quadratic per parameter, so dJ/dtheta over its curvature
        // (1/lr + 2 lambda Omega^) is exactly the distance to the true minimiser; in float ulps of the inputs
        for (size_t i = 0; i < slots.size(); ++i) {
            for (size_t k = 0; k < slots[i].n; ++k) {
                const auto [pull, back] = terms(i, k);
                const double dist = (pull + back) / (1.0 / lr + 2.0 * lambda * mas.omega[i][k]);
                const float  big  = std::max(std::fabs(a[i][k]), std::fabs(mas.anchor[i][k]));
                const double ulp  = (double) std::nextafter(big, INFINITY) - big;
                prox_ulps.v.push_back(std::fabs(dist) / ulp);
            }
        }
        // the checked parameters, from finite differences of J
        for (const auto & p : params) {
            float & x = mas.theta[p.slot][p.index];
            const float x0 = x, up = x0 + (float) o.gc_eps, dn = x0 - (float) o.gc_eps;
            x = up;
            const double j_up = J();
            x = dn;
            const double j_dn = J();
            x = x0;
            const double numeric = (j_up - j_dn) / ((double) up - (double) dn);
            const auto [pull, back] = terms(p.slot, p.index);
            const double size = std::fabs(pull) + std::fabs(back);
            prox_res.v.push_back(size > 0.0 ? std::fabs(numeric) / size : 0.0);
            // how far the step went from a toward theta*: c / (1 + c), so the check is not of a no-op
            const double span = (double) mas.anchor[p.slot][p.index] - a[p.slot][p.index];
            const double moved = span != 0.0 ? ((double) x0 - a[p.slot][p.index]) / span : 0.0;
            moved_min = std::min(moved_min, moved);
            moved_max = std::max(moved_max, moved);
            emit(param_head("prox", p) +
                 ",\"theta\":" + json_num(a[p.slot][p.index], 9) + ",\"result\":" + json_num(x0, 9) +
                 ",\"moved\":" + json_num(moved, 4) + ",\"pull\":" + json_num(pull, 6) +
                 ",\"gradient\":" + json_num(numeric, 4) + ",\"relResidual\":" + json_num(prox_res.v.back(), 4) + "}");
        }
        restore();
    }

    emit(std::string("{\"type\":\"done\",\"mode\":\"gradcheck\"") +
         ",\"params\":" + std::to_string(params.size()) +
         ",\"eps\":" + json_num(o.gc_eps) +
         ",\"objective\":" + json_num(f0, 9) +
         ",\"objectiveTrain\":" + json_num(probe.st.last_sq_norm, 9) +
         ",\"adapterDrift\":" + json_num(drift) +
         ",\"importance\":" + imp_err.json() +
         ",\"penalty\":" + pen_err.json() +
         ",\"prox\":" + prox_res.json() +
         ",\"proxUlps\":" + prox_ulps.json() +
         (o.mas_lambda > 0.0f ? ",\"moved\":[" + json_num(moved_min, 4) + "," + json_num(moved_max, 4) + "]" : std::string()) +
         ",\"elapsedMs\":" + json_num(std::round(now_ms() - t0)) + "}");
    return 0;
}

// ---------------------------------------------------------------------------------------------
// evaluation: mean NLL of each next token under base (+ adapter), through the inference path

int run_eval(const options & o) {
    model_handle mh;
    mh.model = load_model(o.model, INT32_MAX);
    llama_model * model = mh.model;

    const auto tokens = load_tokens(llama_model_get_vocab(model), o.data);
    if (tokens.size() < 2) {
        throw usage_error("evaluation data has fewer than 2 tokens");
    }
    llama_adapter_lora * adapter = nullptr;
    if (!o.adapter_in.empty()) {
        adapter = load_adapter_file(model, o.adapter_in);
    }

    context_handle ch;
    ch.ctx = make_context(model, o, false);
    llama_context * ctx = ch.ctx;
    if (adapter) {
        float scale = o.adapter_scale;
        if (llama_set_adapters_lora(ctx, &adapter, 1, &scale) != 0) {
            throw std::runtime_error("cannot attach the adapter to the context");
        }
    }
    const int n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));

    // the windows training uses; the short tail window is included
    llama_batch batch = llama_batch_init(o.n_ctx, 0, 1);
    double nll_sum = 0.0;
    long long n_scored = 0;
    long n_windows = 0;
    const double t0 = now_ms();
    for (size_t off = 0; off + 1 < tokens.size(); off += o.n_ctx) {
        if (g_stop.load() || (o.max_windows >= 0 && n_windows >= o.max_windows)) {
            break;
        }
        const int n = (int) std::min<size_t>(o.n_ctx, tokens.size() - 1 - off);
        llama_memory_clear(llama_get_memory(ctx), true);
        batch.n_tokens = n;
        for (int j = 0; j < n; ++j) {
            batch.token[j]     = tokens[off + j];
            batch.pos[j]       = j;
            batch.n_seq_id[j]  = 1;
            batch.seq_id[j][0] = 0;
            batch.logits[j]    = true;
        }
        if (llama_decode(ctx, batch) != 0) {
            llama_batch_free(batch);
            throw std::runtime_error("llama_decode failed");
        }
        for (int j = 0; j < n; ++j) {
            const float * logits = llama_get_logits_ith(ctx, j);
            double mx = logits[0];
            for (int v = 1; v < n_vocab; ++v) {
                mx = std::max(mx, (double) logits[v]);
            }
            double se = 0.0;
            for (int v = 0; v < n_vocab; ++v) {
                se += std::exp((double) logits[v] - mx);
            }
            nll_sum += (mx + std::log(se)) - logits[tokens[off + j + 1]];
            ++n_scored;
        }
        ++n_windows;
    }
    llama_batch_free(batch);
    const double elapsed = now_ms() - t0;
    const double nll = n_scored > 0 ? nll_sum / n_scored : NAN;
    emit(std::string("{\"type\":\"eval\",\"nll\":") + json_num(nll) +
         ",\"perplexity\":" + json_num(std::exp(nll)) +
         ",\"tokens\":" + std::to_string(n_scored) +
         ",\"windows\":" + std::to_string(n_windows) +
         ",\"ctx\":" + std::to_string(o.n_ctx) +
         ",\"adapter\":" + (adapter ? "\"" + json_escape(o.adapter_in) + "\"" : std::string("null")) +
         ",\"scale\":" + json_num(adapter ? o.adapter_scale : 0.0) +
         ",\"repackedWeights\":" + std::to_string(g_repacked) +
         ",\"elapsedMs\":" + json_num(std::round(elapsed)) +
         ",\"peakRssMb\":" + json_num(peak_rss_mb()) + "}");
    return 0;
}

} // namespace

int main(int argc, char ** argv) {
    options o;
    try {
        o = parse_args(argc, argv);
    } catch (const usage_error & e) {
        fputs(USAGE, stderr);
        if (!e.what()[0]) {
            return 0; // --help
        }
        emit(std::string("{\"type\":\"error\",\"code\":\"usage\",\"message\":\"") + json_escape(e.what()) + "\"}");
        fprintf(stderr, "npllm-train: %s\n", e.what());
        return 1;
    }

    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);

    llama_log_set(log_cb, nullptr);
    llama_backend_init();
    int rc = 0;
    try {
        if (o.mode == "train") {
            rc = run_train(o);
        } else if (o.mode == "importance") {
            rc = run_importance(o);
        } else if (o.mode == "gradcheck") {
            rc = run_gradcheck(o);
        } else {
            rc = run_eval(o);
        }
    } catch (const usage_error & e) {
        emit(std::string("{\"type\":\"error\",\"code\":\"input\",\"message\":\"") + json_escape(e.what()) + "\"}");
        fprintf(stderr, "npllm-train: %s\n", e.what());
        rc = 1;
    } catch (const std::exception & e) {
        emit(std::string("{\"type\":\"error\",\"code\":\"internal\",\"message\":\"") + json_escape(e.what()) + "\"}");
        fprintf(stderr, "npllm-train: %s\n", e.what());
        rc = 2;
    }
    llama_backend_free();
    return rc;
}
