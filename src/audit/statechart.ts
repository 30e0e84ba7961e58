import dagre from '@dagrejs/dagre';
import type { AnyStateMachine, AnyStateNode } from 'xstate';

/**
 * A statechart as a picture (issue 4, point 2): the graph is read from any XState machine's state
 * nodes, laid out by dagre, and written as SVG markup on the server. Every text that reaches the
 * markup goes through `escapeXml`; styling is by classes (views/public/audit.css) with
 * presentation attributes as a fallback, because the CSP forbids inline styles.
 */

/** Escapes a text for SVG/XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}

export interface ChartState {
  /** The dotted path, as the engine stores states: `implementation.works`. */
  id: string;
  key: string;
  parent: string | null;
  kind: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
}

export interface ChartTransition {
  from: string;
  to: string;
  /** The events that take this way, in the machine's order. */
  events: string[];
}

export interface ChartGraph {
  machineId: string;
  states: ChartState[];
  transitions: ChartTransition[];
  /** The initial child of the root (parent null) and of every compound state. */
  initials: { parent: string | null; target: string }[];
}

const pathOf = (node: AnyStateNode) => node.path.join('.');

/** `xstate.after.1000.#id` → `after 1000`; other event types stay as they are. */
function eventName(type: string): string {
  const delayed = /^xstate\.after\.([^.]+)\./.exec(type);
  return delayed ? `after ${delayed[1]}` : type;
}

/**
 * Walks `machine.root` (states, their transitions with targets, `always`, initial children) into a
 * plain graph. A transition without a target that still does something (an action) is drawn as
 * a loop on its state; one that does nothing (a forbidden event) is left out, as XState does.
 */
export function machineGraph(machine: AnyStateMachine): ChartGraph {
  const states: ChartState[] = [];
  const byPair = new Map<string, ChartTransition>();
  const initials: ChartGraph['initials'] = [];
  const add = (from: string, to: string, event: string) => {
    const key = `${from}\u0000${to}`;
    const existing = byPair.get(key);
    if (!existing) byPair.set(key, { from, to, events: [event] });
    else if (!existing.events.includes(event)) existing.events.push(event);
  };
  const visit = (node: AnyStateNode, parent: string | null) => {
    const id = pathOf(node);
    if (node !== machine.root) states.push({ id, key: node.key, parent, kind: node.type });
    const own = node === machine.root ? null : id;
    for (const [type, definitions] of node.transitions) {
      for (const definition of definitions) {
        const targets = definition.target ?? [];
        if (targets.length === 0) {
          if (own && (definition.actions.length > 0 || definition.reenter)) add(own, own, eventName(type));
          continue;
        }
        for (const target of targets) if (own) add(own, pathOf(target), eventName(type));
      }
    }
    for (const definition of node.always ?? []) for (const target of definition.target ?? []) if (own) add(own, pathOf(target), 'always');
    if (node.type === 'compound') {
      for (const target of node.initial?.target ?? []) initials.push({ parent: own, target: pathOf(target) });
    }
    for (const child of Object.values(node.states) as AnyStateNode[]) visit(child, own);
  };
  visit(machine.root, null);
  return { machineId: machine.id, states, transitions: [...byPair.values()], initials };
}

export interface StatechartOptions {
  /** The state to highlight: a dotted path (its compound ancestors are marked too). */
  active?: string | null;
  /** The transition just taken, drawn stronger: the replay's last step. */
  taken?: { from: string | null; to: string; event: string } | null;
  stateLabel?: (id: string) => string;
  eventLabel?: (type: string) => string;
  /** The accessible name of the picture. */
  title: string;
  /** A sentence for screen readers: what is highlighted. */
  description?: string;
  /** Unique per page: two pictures on one page must not share marker ids. */
  idPrefix?: string;
}

interface Point {
  x: number;
  y: number;
}
interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

const FONT = 12;
const LINE = 15;
/** A generous average glyph width for 12px sans-serif, Cyrillic included: boxes never clip. */
const textWidth = (text: string) => Math.ceil([...text].length * FONT * 0.6) + 2;
const round = (n: number) => Math.round(n * 10) / 10;

/** The leaf a compound state is entered through: its initial child, recursively. */
function initialLeaf(graph: ChartGraph, id: string): string {
  const initial = graph.initials.find((i) => i.parent === id);
  return initial ? initialLeaf(graph, initial.target) : id;
}

const INITIAL = '\u0000initial:';

/** A loop on the right side of a state, reaching out towards its label (dagre keeps that space free). */
function selfLoop(state: Box, labelLeft: number): string {
  const right = state.x + state.width / 2;
  const reach = Math.max(right + 16, labelLeft - 3);
  return `M${round(right)},${round(state.y - 7)} C${round(reach)},${round(state.y - 22)} ${round(reach)},${round(state.y + 22)} ${round(right + 1)},${round(state.y + 7)}`;
}

/**
 * The node dagre lays an edge end out on: a leaf is itself; a compound state is its initial dot,
 * the first thing inside its box, so that the edge crosses the border near the cluster's title.
 */
function layoutEnd(graph: ChartGraph, id: string): string {
  return graph.initials.some((i) => i.parent === id) ? INITIAL + id : id;
}

const inside = (p: Point, b: Box) => Math.abs(p.x - b.x) <= b.width / 2 && Math.abs(p.y - b.y) <= b.height / 2;

/** Where the segment a→b crosses the border of box b (a inside, b outside or the reverse). */
function borderCrossing(a: Point, b: Point, box: Box): Point {
  let lo = 0;
  let hi = 1;
  const aIn = inside(a, box);
  for (let i = 0; i < 30; i++) {
    const mid = (lo + hi) / 2;
    const p = { x: a.x + (b.x - a.x) * mid, y: a.y + (b.y - a.y) * mid };
    if (inside(p, box) === aIn) lo = mid;
    else hi = mid;
  }
  return { x: a.x + (b.x - a.x) * hi, y: a.y + (b.y - a.y) * hi };
}

/** Cuts a polyline so that it starts (or ends) on the border of a cluster box instead of inside it. */
function clipStart(points: Point[], box: Box): Point[] {
  const exit = points.findIndex((p, i) => i > 0 && !inside(p, box) && inside(points[i - 1]!, box));
  if (exit < 1) return points;
  return [borderCrossing(points[exit - 1]!, points[exit]!, box), ...points.slice(exit)];
}
function clipEnd(points: Point[], box: Box): Point[] {
  return clipStart([...points].reverse(), box).reverse();
}

/** A smooth path through dagre's points: straight ends, quadratic curves through the bends. */
function pathData(points: Point[]): string {
  if (points.length === 0) return '';
  const [first, ...rest] = points;
  let d = `M${round(first!.x)},${round(first!.y)}`;
  if (rest.length === 1) return `${d} L${round(rest[0]!.x)},${round(rest[0]!.y)}`;
  for (let i = 0; i < rest.length - 1; i++) {
    const p = rest[i]!;
    const next = rest[i + 1]!;
    const end = i === rest.length - 2 ? next : { x: (p.x + next.x) / 2, y: (p.y + next.y) / 2 };
    d += ` Q${round(p.x)},${round(p.y)} ${round(end.x)},${round(end.y)}`;
  }
  return d;
}

interface ChartLayout {
  width: number;
  height: number;
  boxes: Map<string, Box>;
  edges: { points: Point[]; x?: number; y?: number }[];
  initialPoints: Map<string, Point[]>;
}

/** Layouts by machine and by the labels they were measured with: dagre takes tens of milliseconds. */
const layouts = new WeakMap<AnyStateMachine, Map<string, ChartLayout>>();

function cachedLayout(machine: AnyStateMachine, graph: ChartGraph, stateLabel: (id: string) => string, eventLabel: (type: string) => string, compound: Set<string>): ChartLayout {
  const key = JSON.stringify([graph.states.map((s) => stateLabel(s.id)), graph.transitions.map((t) => t.events.map(eventLabel))]);
  let byLabels = layouts.get(machine);
  if (!byLabels) layouts.set(machine, (byLabels = new Map()));
  const cached = byLabels.get(key);
  if (cached) return cached;

  const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 38, edgesep: 14, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const state of graph.states) {
    if (compound.has(state.id)) g.setNode(state.id, {});
    else g.setNode(state.id, { width: Math.max(84, textWidth(stateLabel(state.id)) + 22), height: 34 });
  }
  for (const state of graph.states) if (state.parent) g.setParent(state.id, state.parent);
  for (const initial of graph.initials) {
    const dot = INITIAL + (initial.parent ?? '');
    g.setNode(dot, { width: 12, height: 12 });
    if (initial.parent) g.setParent(dot, initial.parent);
    g.setEdge(dot, initialLeaf(graph, initial.target), { minlen: 1 }, dot);
  }
  // dagre lays out edges between leaves only: an edge that touches a compound state is laid out
  // through the cluster's initial dot, and clipped to the cluster's border when drawn.
  graph.transitions.forEach((t, index) => {
    const lines = t.events.map(eventLabel);
    g.setEdge(layoutEnd(graph, t.from), layoutEnd(graph, t.to), {
      width: Math.max(...lines.map(textWidth)) + 8,
      height: lines.length * LINE + 4,
      labelpos: 'c',
    }, `t${index}`);
  });
  dagre.layout(g);

  const boxes = new Map<string, Box>();
  for (const id of g.nodes()) {
    const n = g.node(id) as { x: number; y: number; width: number; height: number };
    boxes.set(id, { x: n.x, y: n.y, width: n.width, height: n.height });
  }
  const edges = graph.transitions.map((t, index) => {
    const e = g.edge({ v: layoutEnd(graph, t.from), w: layoutEnd(graph, t.to), name: `t${index}` }) as { points?: Point[]; x?: number; y?: number };
    return { points: e.points ?? [], ...(e.x !== undefined && e.y !== undefined ? { x: e.x, y: e.y } : {}) };
  });
  const initialPoints = new Map<string, Point[]>();
  for (const initial of graph.initials) {
    const dot = INITIAL + (initial.parent ?? '');
    initialPoints.set(dot, (g.edge({ v: dot, w: initialLeaf(graph, initial.target), name: dot }) as { points?: Point[] }).points ?? []);
  }
  const size = g.graph() as { width?: number; height?: number };
  const layout = { width: Math.ceil(size.width ?? 0), height: Math.ceil(size.height ?? 0), boxes, edges, initialPoints };
  byLabels.set(key, layout);
  return layout;
}

/**
 * Renders a machine as SVG markup. Generic over any XState machine: the application statechart,
 * the stage machine, and whatever comes later. The caller gives the labels (translated) and the
 * state to highlight; nothing here knows a domain.
 */
export function renderStatechart(machine: AnyStateMachine, options: StatechartOptions): string {
  const graph = machineGraph(machine);
  const stateLabel = options.stateLabel ?? ((id: string) => id.split('.').at(-1) ?? id);
  const eventLabel = options.eventLabel ?? ((type: string) => type);
  const prefix = (options.idPrefix ?? `sc-${machine.id}`).replace(/[^A-Za-z0-9_-]/g, '-');
  const active = options.active ?? null;
  const compound = new Set(graph.states.filter((s) => s.kind === 'compound' || s.kind === 'parallel').map((s) => s.id));

  const layout = cachedLayout(machine, graph, stateLabel, eventLabel, compound);
  const box = (id: string): Box => layout.boxes.get(id)!;
  const { width, height } = layout;
  const isActive = (id: string) => active !== null && (active === id || active.startsWith(`${id}.`));
  const out: string[] = [];
  const titleId = `${prefix}-title`;
  const descId = `${prefix}-desc`;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="statechart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${titleId}${options.description ? ` ${descId}` : ''}" data-machine="${escapeXml(machine.id)}"${active ? ` data-active="${escapeXml(active)}"` : ''}>`,
    `<title id="${titleId}">${escapeXml(options.title)}</title>`,
  );
  if (options.description) out.push(`<desc id="${descId}">${escapeXml(options.description)}</desc>`);
  out.push(
    '<defs>',
    `<marker id="${prefix}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="sc-arrowhead" fill="#5b6573"/></marker>`,
    `<marker id="${prefix}-arrow-taken" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="sc-arrowhead sc-arrowhead--taken" fill="#b45309"/></marker>`,
    '</defs>',
  );

  // Clusters first, outermost first, so that their children draw over them.
  const depth = (id: string) => id.split('.').length;
  for (const state of graph.states.filter((s) => compound.has(s.id)).sort((a, b) => depth(a.id) - depth(b.id))) {
    const b = box(state.id);
    const x = round(b.x - b.width / 2);
    const y = round(b.y - b.height / 2);
    const cls = `sc-cluster${isActive(state.id) ? ' sc-cluster--active' : ''}`;
    out.push(
      `<g class="${cls}" data-state="${escapeXml(state.id)}">`,
      `<rect x="${x}" y="${y}" width="${round(b.width)}" height="${round(b.height)}" rx="10" fill="#f4f6fa" stroke="#6b7480" stroke-dasharray="5 3"/>`,
      `<text x="${round(x + 10)}" y="${round(y + 16)}" class="sc-cluster-label" font-size="${FONT}" font-weight="700" fill="#1b1f24">${escapeXml(stateLabel(state.id))}</text>`,
      '</g>',
    );
  }

  // Transitions, with their labels.
  graph.transitions.forEach((t, index) => {
    const edge = layout.edges[index]!;
    let points = edge.points;
    if (compound.has(t.from)) points = clipStart(points, box(t.from));
    if (compound.has(t.to)) points = clipEnd(points, box(t.to));
    const taken = options.taken && options.taken.from !== null && options.taken.to !== undefined
      && (options.taken.from === t.from || options.taken.from.startsWith(`${t.from}.`))
      && (options.taken.to === t.to || options.taken.to.startsWith(`${t.to}.`))
      && t.events.includes(options.taken.event);
    const cls = `sc-transition${taken ? ' sc-transition--taken' : ''}${t.from === t.to ? ' sc-transition--self' : ''}`;
    out.push(
      `<g class="${cls}" data-from="${escapeXml(t.from)}" data-to="${escapeXml(t.to)}" data-events="${escapeXml(t.events.join(' '))}">`,
      `<path d="${t.from === t.to && edge.x !== undefined ? selfLoop(box(layoutEnd(graph, t.from)), edge.x - (Math.max(...t.events.map(eventLabel).map(textWidth)) + 6) / 2) : pathData(points)}" fill="none" stroke="${taken ? '#b45309' : '#5b6573'}" stroke-width="${taken ? 2.5 : 1.3}" marker-end="url(#${prefix}-arrow${taken ? '-taken' : ''})"/>`,
    );
    if (edge.x !== undefined && edge.y !== undefined) {
      const lines = t.events.map(eventLabel);
      const w = Math.max(...lines.map(textWidth)) + 6;
      const h = lines.length * LINE + 2;
      out.push(`<rect class="sc-label-bg" x="${round(edge.x - w / 2)}" y="${round(edge.y - h / 2)}" width="${w}" height="${h}" rx="3" fill="#ffffff" fill-opacity="0.9"/>`);
      lines.forEach((line, i) => {
        const y = edge.y! - h / 2 + 1 + LINE * (i + 1) - 4;
        out.push(`<text class="sc-event" x="${round(edge.x!)}" y="${round(y)}" text-anchor="middle" font-size="${FONT - 1}" fill="#374151">${escapeXml(line)}</text>`);
      });
    }
    out.push('</g>');
  });

  // Initial markers: a filled dot and an arrow into the state a machine (or a compound state) starts in.
  for (const initial of graph.initials) {
    const dot = INITIAL + (initial.parent ?? '');
    const b = box(dot);
    const edge = { points: layout.initialPoints.get(dot) ?? [] };
    out.push(
      `<g class="sc-initial">`,
      `<circle cx="${round(b.x)}" cy="${round(b.y)}" r="5" fill="#1b1f24"/>`,
      `<path d="${pathData([{ x: b.x, y: b.y + 5 }, ...(edge.points ?? []).slice(1)])}" fill="none" stroke="#1b1f24" stroke-width="1.3" marker-end="url(#${prefix}-arrow)"/>`,
      '</g>',
    );
  }

  // States last, on top.
  for (const state of graph.states.filter((s) => !compound.has(s.id))) {
    const b = box(state.id);
    const x = round(b.x - b.width / 2);
    const y = round(b.y - b.height / 2);
    const on = isActive(state.id);
    const cls = `sc-state sc-state--${state.kind}${on ? ' sc-state--active' : ''}`;
    out.push(
      `<g class="${cls}" data-state="${escapeXml(state.id)}"${on ? ' aria-current="true"' : ''}>`,
      `<rect x="${x}" y="${y}" width="${round(b.width)}" height="${round(b.height)}" rx="7" fill="${on ? '#fde68a' : '#ffffff'}" stroke="${on ? '#b45309' : '#374151'}" stroke-width="${on ? 3 : 1.3}"/>`,
    );
    if (state.kind === 'final') {
      out.push(`<rect class="sc-final-ring" x="${round(x + 3)}" y="${round(y + 3)}" width="${round(b.width - 6)}" height="${round(b.height - 6)}" rx="5" fill="none" stroke="${on ? '#b45309' : '#374151'}" stroke-width="1"/>`);
    }
    out.push(
      `<text x="${round(b.x)}" y="${round(b.y + FONT / 2 - 1)}" text-anchor="middle" font-size="${FONT}" fill="#1b1f24"${on ? ' font-weight="700"' : ''}>${escapeXml(stateLabel(state.id))}</text>`,
      '</g>',
    );
  }
  out.push('</svg>');
  return out.join('\n');
}
