/**
 * The conformance suite's tools: the real tfmodel-server binary started with the command line TF
 * Serving's own tests start tensorflow_model_server with (tensorflow_model_server_test_base.py
 * RunServer), TF Serving's Python client (tensorflow-serving-api) for gRPC, curl for REST.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/corpus.js';
import { ServerProcess, freePortSync } from '../support/server-process.js';

export const CLIENT_SCRIPT = join(REPO_ROOT, 'test', 'server', 'grpc-python', 'client.py');
export const PROFILE_SCRIPT = join(REPO_ROOT, 'test', 'conformance', 'profile_trace.py');

export interface RunningTfServer {
  readonly process: ServerProcess;
  /** "127.0.0.1:port" */
  readonly grpc: string;
  /** "unix:<path>" */
  readonly uds: string;
  /** "http://127.0.0.1:port" */
  readonly rest: string;
}

export interface RunServerOptions {
  readonly modelName?: string;
  readonly modelPath?: string;
  readonly modelConfigFile?: string;
  readonly monitoringConfigFile?: string;
  readonly batchingParametersFile?: string;
  readonly grpcChannelArguments?: string;
  readonly modelConfigFilePollPeriod?: number;
  readonly tflite?: boolean;
  readonly extra?: readonly string[];
}

/** RunServer's command line, with ports picked the way its portpicker does. */
export function runServerArgs(socketPath: string, options: RunServerOptions): { args: string[]; grpcPort: number; restPort: number } {
  const grpcPort = freePortSync();
  const restPort = freePortSync();
  const args = [`--port=${grpcPort}`, `--rest_api_port=${restPort}`, '--rest_api_timeout_in_ms=60000', `--grpc_socket_path=${socketPath}`];
  if (options.modelConfigFile) args.push(`--model_config_file=${options.modelConfigFile}`);
  else args.push(`--model_name=${options.modelName ?? 'default'}`, `--model_base_path=${options.modelPath}`);
  if (options.tflite) args.push('--prefer_tflite_model=true');
  if (options.monitoringConfigFile) args.push(`--monitoring_config_file=${options.monitoringConfigFile}`);
  if (options.modelConfigFilePollPeriod !== undefined) args.push(`--model_config_file_poll_wait_seconds=${options.modelConfigFilePollPeriod}`);
  if (options.batchingParametersFile) args.push('--enable_batching', `--batching_parameters_file=${options.batchingParametersFile}`);
  args.push(`--grpc_channel_arguments=${[options.grpcChannelArguments, 'grpc.so_reuseaddr=1'].filter(Boolean).join(',')}`);
  args.push(...(options.extra ?? []));
  return { args, grpcPort, restPort };
}

export function startTfServer(socketPath: string, options: RunServerOptions): RunningTfServer {
  const { args, grpcPort, restPort } = runServerArgs(socketPath, options);
  return {
    process: ServerProcess.start(['--inference_threads=0', ...args]),
    grpc: `127.0.0.1:${grpcPort}`,
    uds: `unix:${socketPath}`,
    rest: `http://127.0.0.1:${restPort}`,
  };
}

export type Call = { id: string; rpc: string } & Record<string, unknown>;
export interface CallResult {
  readonly id: string;
  readonly response?: unknown;
  readonly error?: { code: string; details: string };
}

/** Runs `calls` in order on one channel of TF Serving's Python client. */
export function pythonClient(python: string, address: string, calls: readonly Call[]): Promise<Map<string, CallResult>> {
  return new Promise((resolve, reject) => {
    const child = execFile(python, [CLIENT_SCRIPT], { maxBuffer: 16 << 20, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(new Map((JSON.parse(stdout) as CallResult[]).map((r) => [r.id, r])));
    });
    child.stdin!.end(JSON.stringify({ address, calls }));
  });
}

export interface CurlReply {
  readonly status: number;
  readonly body: string;
}

/** curl, as TF Serving's REST docs call the API; body undefined: GET. */
export function curl(url: string, body?: unknown): Promise<CurlReply> {
  const args = ['-s', '-w', '\n%{http_code}', url];
  if (body !== undefined) args.push('-X', 'POST', '-H', 'Content-Type: application/json', '-d', typeof body === 'string' ? body : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    execFile('curl', args, { maxBuffer: 16 << 20 }, (error, stdout) => {
      if (error) return reject(error);
      const cut = stdout.lastIndexOf('\n');
      resolve({ status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) });
    });
  });
}

/** The client's view of a Predict of TF Serving's VerifyPredictRequest (x = [2.0], output y). */
export function verifyPredictCall(id: string, model = 'default', signature = 'serving_default', outputFilter = true): Call {
  return {
    id,
    rpc: 'Predict',
    spec: { name: model, signature_name: signature },
    inputs: { x: { dtype: 'float32', shape: [1], values: [2.0] } },
    ...(outputFilter ? { output_filter: ['y'] } : {}),
  };
}
