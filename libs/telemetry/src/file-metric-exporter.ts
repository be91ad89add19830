/**
 * @file A PushMetricExporter that appends each collection as one JSON line to
 * `<dir>/<service>-<pid>.metrics.jsonl`, the local metrics store when no OTLP endpoint is set.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ExportResultCode, hrTimeToMilliseconds, type ExportResult } from '@opentelemetry/core';
import { AggregationTemporality, DataPointType, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';

export class FileMetricExporter implements PushMetricExporter {
  constructor(
    private readonly resolveDir: () => string,
    private readonly service: string,
  ) {}

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    try {
      const series = metrics.scopeMetrics.flatMap((scope) =>
        scope.metrics.map((metric) => ({
          name: metric.descriptor.name,
          unit: metric.descriptor.unit,
          type: DataPointType[metric.dataPointType],
          points: metric.dataPoints.map((point) => ({
            attributes: point.attributes,
            timeMs: hrTimeToMilliseconds(point.endTime),
            value: point.value,
          })),
        })),
      );
      if (series.length > 0) {
        const dir = this.resolveDir();
        mkdirSync(dir, { recursive: true });
        const line = { timeMs: Date.now(), service: this.service, pid: process.pid, metrics: series };
        appendFileSync(join(dir, `${this.service}-${process.pid}.metrics.jsonl`), JSON.stringify(line) + '\n');
      }
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }

  /** Cumulative totals: each line stands alone, so a reader needs only the last one. */
  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }

  async forceFlush(): Promise<void> {}

  async shutdown(): Promise<void> {}
}
