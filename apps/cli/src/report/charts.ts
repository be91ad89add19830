/**
 * @file The report's curves: a vega-lite spec compiled by vega-lite, rendered to SVG by vega
 * (headless, no canvas), rasterised to PNG by resvg. Fonts come from the system (DejaVu here);
 * with none installed the marks still render, only the text is missing.
 */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Results } from './results';

export interface Chart {
  name: string;
  svg: string;
  png: Buffer;
}

async function render(name: string, spec: TopLevelSpec): Promise<Chart> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { background: 'white', fitTo: { mode: 'zoom', value: 2 } }).render().asPng();
  return { name, svg, png };
}

/** Mean reward per round (the E-step's signal). */
export function rewardChart(results: Results): Promise<Chart> {
  return render('reward.png', {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Mean reward per round',
    width: 360,
    height: 220,
    data: { values: results.rounds },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'round', type: 'ordinal', title: 'round', axis: { labelAngle: 0 } },
      y: { field: 'mean_reward', type: 'quantitative', title: 'mean reward (accuracy gain)' },
    },
  });
}

/** Test accuracy per condition, in the table's order, with the SEAL rounds as the curve's last points. */
export function accuracyChart(results: Results): Promise<Chart> {
  const order = results.table.map((row) => row.condition);
  return render('accuracy.png', {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Test accuracy by condition',
    width: 420,
    height: 240,
    data: { values: results.table.map((row) => ({ ...row, accuracy_pct: 100 * row.accuracy })) },
    layer: [
      { mark: { type: 'bar', opacity: 0.35 }, encoding: { x: { field: 'condition', type: 'nominal', sort: order, axis: { labelAngle: -30 } }, y: { field: 'accuracy_pct', type: 'quantitative', title: 'accuracy (%)', scale: { domain: [0, 100] } } } },
      {
        transform: [{ filter: { field: 'condition', oneOf: order.filter((c) => c === 'base-self-edits' || c.startsWith('seal-round-')) } }],
        mark: { type: 'line', point: true, color: '#d62728' },
        encoding: { x: { field: 'condition', type: 'nominal', sort: order }, y: { field: 'accuracy_pct', type: 'quantitative' } },
      },
    ],
  });
}
