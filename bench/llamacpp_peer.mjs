#!/usr/bin/env node
// llama.cpp's side of bench/cpu_compare.py: the same model (a GGUF written by bench/to_gguf.py from the
// same checkpoint), the same token ids, the same thread count, through llama.cpp's CPU backend as the
// prebuilt addon of node-llama-cpp (installed outside this repository, see bench/README.md):
//
//   npm install --prefix ~/llama-peer node-llama-cpp
//   node bench/llamacpp_peer.mjs --gguf /tmp/m06.gguf --ids ids.json --threads 2 --warmup 1 --rounds 3
//
// --ids names a JSON file {"sequences": [[id, ...], ...]} (cpu_compare.py writes it with
// torch_reference.random_ids). One pass embeds every sequence, one after the other: node-llama-cpp's
// embedding context holds one sequence, and reads back the pooled vector of sequence 0 after each decode.
// Each sequence is one decode (batch size = context size >= its length), last-token pooling (the GGUF's
// pooling type), llama.cpp's default flash-attention choice ("auto"). Prints one JSON object: tokens/s of
// the median pass, CPU seconds of the median pass (process.cpuUsage: every thread of this process), and
// with --vectors FILE writes each sequence's L2-normalised vector (JSONL) of the last pass.

import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

function parseArgs(argv) {
  const args = { prefix: process.env.QEMBED_LLAMA_PEER || join(homedir(), "llama-peer"), threads: 2, warmup: 1,
                 rounds: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in args) && !["gguf", "ids", "vectors"].includes(key)) fail(`unknown option ${argv[i]}`);
    if (i + 1 >= argv.length) fail(`option ${argv[i]} needs a value`);
    args[key] = ["threads", "warmup", "rounds"].includes(key) ? Number(argv[i + 1]) : argv[i + 1];
  }
  if (!args.gguf || !args.ids) fail("--gguf FILE and --ids FILE are required");
  for (const key of ["threads", "rounds"]) {
    if (!Number.isInteger(args[key]) || args[key] < 1) fail(`--${key} must be a whole number >= 1`);
  }
  if (!Number.isInteger(args.warmup) || args.warmup < 0) fail("--warmup must be a whole number >= 0");
  return args;
}

function fail(message) {
  console.error(`llamacpp_peer: ${message}`);
  process.exit(2);
}

async function loadNodeLlamaCpp(prefix) {
  let entry;
  try {
    entry = createRequire(join(prefix, "/")).resolve("node-llama-cpp");
  } catch {
    fail(`node-llama-cpp not found under ${prefix}; install it with: npm install --prefix ${prefix} node-llama-cpp`);
  }
  return import(pathToFileURL(entry).href);
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function normalised(vector) {
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  return vector.map((x) => x / norm);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const sequences = JSON.parse(readFileSync(args.ids, "utf8")).sequences;
  const longest = Math.max(...sequences.map((s) => s.length));
  const tokens = sequences.reduce((n, s) => n + s.length, 0);

  const nlc = await loadNodeLlamaCpp(args.prefix);
  // The prebuilt CPU binary only: never compile, never download, no GPU backend.
  const llama = await nlc.getLlama({ gpu: false, build: "never", usePrebuiltBinaries: true, skipDownload: true,
                                     maxThreads: 0, logLevel: nlc.LlamaLogLevel.error, progressLogs: false });
  const model = await llama.loadModel({ modelPath: args.gguf, gpuLayers: 0 });
  // getEmbeddingFor wants the input shorter than the context; one decode holds the whole sequence.
  const contextSize = longest + 1;
  const context = await model.createEmbeddingContext({ contextSize, batchSize: contextSize, threads: args.threads });
  for (const ids of sequences) {
    const length = context.calculateInputLength(ids);
    if (length !== ids.length) fail(`llama.cpp would run ${length} tokens for a sequence of ${ids.length} (BOS/EOS added)`);
  }

  const vectors = new Array(sequences.length);
  async function pass() {
    for (let i = 0; i < sequences.length; i++) {
      vectors[i] = (await context.getEmbeddingFor(sequences[i])).vector;
    }
  }
  for (let i = 0; i < args.warmup; i++) await pass();
  const wallMs = [];
  const cpuMs = [];
  for (let i = 0; i < args.rounds; i++) {
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    await pass();
    wallMs.push(Number(process.hrtime.bigint() - start) / 1e6);
    const used = process.cpuUsage(cpu);
    cpuMs.push((used.user + used.system) / 1000);
  }
  if (args.vectors) {
    writeFileSync(args.vectors, vectors.map((v, id) => JSON.stringify({ id, embedding: normalised(v) })).join("\n") + "\n");
  }
  const medianMs = median(wallMs);
  const result = {
    implementation: "llama.cpp (node-llama-cpp prebuilt CPU addon)",
    node_llama_cpp: JSON.parse(readFileSync(join(args.prefix, "node_modules", "node-llama-cpp", "package.json"), "utf8")).version,
    llama_cpp_release: llama.llamaCppRelease?.release,
    gguf: args.gguf, batch: `${sequences.length}x${longest}`, tokens,
    threads: context._llamaContext.currentThreads, context_size: context._llamaContext.contextSize,
    batch_size: context._llamaContext.batchSize, flash_attention: context._llamaContext.flashAttention,
    warmup: args.warmup, rounds: args.rounds, ms_per_pass: wallMs.map((x) => Math.round(x * 1000) / 1000),
    median_ms: medianMs, tokens_per_second: tokens / (medianMs / 1000), cpu_s_per_pass: median(cpuMs) / 1000,
  };
  await context.dispose();
  await model.dispose();
  await llama.dispose();
  console.log(JSON.stringify(result));
}

main().catch((e) => fail(e?.message ?? String(e)));
