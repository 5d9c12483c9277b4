// A time chart drawn by uPlot: one or two series over the chosen range, colours from the page's
// CSS variables (so light and dark mode both read well), resized with its box.
import { useEffect, useRef } from 'preact/hooks'
import type uPlot from 'uplot'
import type { AlignedData, Options } from 'uplot'
import type { Point } from './api.js'

export interface ChartProps {
  title: string
  points: Point[]
  series: Array<{ label: string; color: string }>
  /** How a value is written on the axis and in the legend. */
  format: (v: number | null) => string
  from: number
  to: number
  /** Counts: ticks at whole numbers only. */
  integer?: boolean
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888'
}

export function Chart(p: ChartProps) {
  const box = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)

  useEffect(() => {
    const el = box.current
    if (!el) return
    let gone = false
    let resize: ResizeObserver | null = null
    // uPlot is most of the page's script: it loads after the first paint, in its own chunk.
    void import('uplot').then(({ default: UPlot }) => {
      if (gone) return
      const data: AlignedData = [
        p.points.map((pt) => pt[0]),
        ...p.series.map((_, i) => p.points.map((pt) => (pt[i + 1] ?? null) as number | null)),
      ]
      const axis = {
        stroke: cssVar('--muted'),
        grid: { stroke: cssVar('--grid'), width: 1 },
        ticks: { show: false },
      }
      const opts: Options = {
        width: el.clientWidth || 400,
        height: 180,
        scales: {
          x: { time: true, range: [p.from, p.to] },
          y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(1, max ?? 1)] },
        },
        series: [
          {},
          ...p.series.map((s) => ({
            label: s.label,
            stroke: cssVar(s.color),
            width: 2,
            value: (_u: uPlot, v: number | null) => p.format(v),
          })),
        ],
        axes: [
          axis,
          { ...axis, size: 70, values: (_u: uPlot, ticks: number[]) => ticks.map((t) => p.format(t)) },
        ],
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
      }
      plot.current?.destroy()
      plot.current = new UPlot(opts, data, el)
      resize = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height: 180 }))
      resize.observe(el)
    })
    return () => {
      gone = true
      resize?.disconnect()
      plot.current?.destroy()
      plot.current = null
    }
  }, [p.points, p.from, p.to])

  return (
    <figure class="chart">
      <figcaption>{p.title}</figcaption>
      {p.points.length === 0 ? <p class="empty">No history in this range yet.</p> : null}
      <div ref={box} class="plot" data-points={p.points.length} />
    </figure>
  )
}
