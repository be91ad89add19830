/**
 * @file The one OpenTelemetry NodeSDK setup, preloaded by every SEAL-TS process before anything
 * else loads (`tsx --import ./libs/telemetry/src/register.ts …`): service name and resource,
 * gRPC instrumentation, OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set, JSONL files otherwise.
 *
 * Environment:
 * - OTEL_SERVICE_NAME: overrides the service name derived from argv (`seal serve student` → seal-student).
 * - OTEL_EXPORTER_OTLP_ENDPOINT: send traces and metrics over OTLP/gRPC instead of files.
 * - SEAL_TRACE_DIR: folder for `<service>-<pid>.jsonl` span files (default: <tmpdir>/seal-traces).
 * - SEAL_TELEMETRY=off: install nothing (for measurements that must exclude tracing overhead).
 */
import { register } from 'node:module';
import { hostname } from 'node:os';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { FileMetricExporter } from './file-metric-exporter';
import { FileSpanExporter } from './file-span-exporter';
import { installFlushHook } from './index';
import { serviceNameFromArgv, traceDirectory } from './service-name';

/** gRPC methods never traced: health probes and reflection would drown real work. */
const UNTRACED_GRPC_METHODS = ['Check', 'Watch', 'ServerReflectionInfo'];

function start(): void {
  // NOTE: tsx loads CommonJS packages imported from ESM through its ESM loader hooks, so the
  // require hook (require-in-the-middle) never sees @grpc/grpc-js. OTel's import-in-the-middle
  // loader sees every module load instead; it must be registered before grpc-js is first imported.
  // Only grpc-js is wrapped: intercepting every module doubled the CLI's start-up time.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['@grpc/grpc-js'] } });
  const serviceName = process.env.OTEL_SERVICE_NAME || serviceNameFromArgv(process.argv);
  const otlp = Boolean(process.env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const spanProcessor: SpanProcessor = otlp
    ? new BatchSpanProcessor(new OTLPTraceExporter())
    : new SimpleSpanProcessor(new FileSpanExporter(traceDirectory, serviceName));
  const metricReader = new PeriodicExportingMetricReader({
    exporter: otlp ? new OTLPMetricExporter() : new FileMetricExporter(traceDirectory, serviceName),
    exportIntervalMillis: 10_000,
  });
  const sdk = new NodeSDK({
    serviceName,
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: serviceName,
      [ATTR_SERVICE_VERSION]: process.env.npm_package_version || '0.1.0',
      'service.instance.id': `${hostname()}-${process.pid}`,
      'host.name': hostname(),
      'process.pid': process.pid,
    }),
    spanProcessors: [spanProcessor],
    metricReaders: [metricReader],
    // Logs stay on stderr; without this NodeSDK would build a default OTLP log exporter.
    logRecordProcessors: [],
    instrumentations: [new GrpcInstrumentation({ ignoreGrpcMethods: UNTRACED_GRPC_METHODS })],
  });
  sdk.start();
  installFlushHook(async () => {
    await Promise.all([spanProcessor.forceFlush(), metricReader.forceFlush()]);
  });
}

if (process.env.SEAL_TELEMETRY !== 'off') start();
