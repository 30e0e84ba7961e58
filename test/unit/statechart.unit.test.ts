import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { applicationMachine } from '../../machines/application.ts';
import { stageMachine } from '../../machines/stage.ts';
import { escapeXml, machineGraph, renderStatechart } from '../../src/audit/statechart.ts';

/** The attributes of the element carrying `data-state="id"`. */
const stateGroup = (svg: string, id: string) => new RegExp(`<g class="([^"]+)" data-state="${id.replace('.', '\\.')}"`).exec(svg)?.[1];

describe('escapeXml', () => {
  it('escapes the five XML specials and nothing else', () => {
    expect(escapeXml(`<a href="x">'Ü' & ©</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;Ü&apos; &amp; ©&lt;/a&gt;');
  });
});

describe('machineGraph reads any machine from its state nodes', () => {
  it('the application statechart: every state, the nesting, the initial states and labelled transitions', () => {
    const graph = machineGraph(applicationMachine);
    const ids = graph.states.map((s) => s.id);
    expect(ids).toEqual(expect.arrayContaining(['draft', 'under-review', 'implementation', 'implementation.works', 'closed', 'terminated']));
    expect(graph.states.find((s) => s.id === 'implementation')).toMatchObject({ kind: 'compound', parent: null });
    expect(graph.states.find((s) => s.id === 'implementation.works')).toMatchObject({ kind: 'atomic', parent: 'implementation' });
    expect(graph.states.find((s) => s.id === 'closed')!.kind).toBe('final');
    expect(graph.initials).toEqual([
      { parent: null, target: 'draft' },
      { parent: 'implementation', target: 'implementation.agreement' },
    ]);
    const way = (from: string, to: string) => graph.transitions.find((t) => t.from === from && t.to === to)?.events;
    expect(way('draft', 'submitted')).toEqual(['submit']);
    expect(way('implementation', 'terminated')).toEqual(['terminate']);
    expect(way('implementation.completed', 'closed')).toEqual(['close']);
    expect(way('awarded', 'implementation')).toEqual(['start-implementation']);
    // Targetless transitions that act (update, score) are loops; several events share one arrow.
    expect(way('draft', 'draft')).toEqual(['update', 'attach-document']);
    expect(way('implementation.works', 'implementation.works')).toEqual(['record-contribution', 'cancel-contribution', 'record-milestone', 'report-progress', 'record-monitoring', 'resolve-issue']);
    // Every event of the machine appears on some arrow.
    const drawn = new Set(graph.transitions.flatMap((t) => t.events));
    for (const node of [applicationMachine.root, ...Object.values(applicationMachine.root.states)]) for (const e of node.ownEvents) expect(drawn).toContain(e);
  });

  it('the stage machine, with the same function', () => {
    const graph = machineGraph(stageMachine);
    expect(graph.states.map((s) => s.id)).toEqual(['planned', 'active', 'completed']);
    expect(graph.transitions.find((t) => t.from === 'planned' && t.to === 'active')!.events).toContain('start');
    expect(graph.transitions.find((t) => t.from === 'completed' && t.to === 'active')!.events).toContain('reopen');
  });

  it('always and delayed transitions of a machine it has never seen', () => {
    const machine = createMachine({ id: 'lamp', initial: 'off', states: { off: { on: { toggle: 'on' } }, on: { after: { 1000: 'off' } }, blink: { always: 'off' } } });
    const graph = machineGraph(machine);
    expect(graph.transitions).toEqual(expect.arrayContaining([
      { from: 'off', to: 'on', events: ['toggle'] },
      { from: 'on', to: 'off', events: ['after 1000'] },
      { from: 'blink', to: 'off', events: ['always'] },
    ]));
  });
});

describe('renderStatechart', () => {
  it('draws boxes, a cluster for the compound state, labelled arrows, and highlights the state and its ancestor', () => {
    const svg = renderStatechart(applicationMachine, { title: 'Application', active: 'implementation.works', taken: { from: 'implementation.procurement', to: 'implementation.works', event: 'sign-contract' } });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toMatch(/viewBox="0 0 \d+ \d+"/);
    expect(svg).toContain('<title id="sc-application-title">Application</title>');
    expect(stateGroup(svg, 'implementation.works')).toBe('sc-state sc-state--atomic sc-state--active');
    expect(stateGroup(svg, 'implementation')).toBe('sc-cluster sc-cluster--active');
    expect(stateGroup(svg, 'draft')).toBe('sc-state sc-state--atomic');
    expect(stateGroup(svg, 'closed')).toBe('sc-state sc-state--final');
    expect(svg).toContain('<g class="sc-transition sc-transition--taken" data-from="implementation.procurement" data-to="implementation.works" data-events="sign-contract">');
    expect(svg.match(/class="sc-transition[ "]/g)!.length).toBe(machineGraph(applicationMachine).transitions.length);
    expect(svg.match(/<circle /g)).toHaveLength(2);
    // Every coordinate is a number: the layout placed everything.
    expect(svg).not.toMatch(/NaN|undefined/);
    // CSP: no inline styles or scripts.
    expect(svg).not.toMatch(/ style=|<script/);
  });

  it('is generic: the stage machine and a machine with hostile names render, every text escaped', () => {
    expect(renderStatechart(stageMachine, { title: 'Stage', active: 'active' })).toContain('data-state="active" aria-current="true"');
    const hostile = createMachine({ id: 'x"<y>', initial: 'a<b', states: { 'a<b': { on: { '"><script>alert(1)</script>': 'c&d' } }, 'c&d': { type: 'final' } } });
    const svg = renderStatechart(hostile, { title: '<title>&', description: '"quoted"', active: 'c&d', stateLabel: (id) => `${id}'s` });
    expect(svg).not.toContain('<script>');
    expect(svg).not.toContain('a<b');
    expect(svg).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(svg).toContain('data-state="c&amp;d"');
    expect(svg).toContain('c&amp;d&apos;s');
    expect(svg).toContain('<title id="sc-x--y--title">&lt;title&gt;&amp;</title>');
    expect(svg).toContain('<desc id="sc-x--y--desc">&quot;quoted&quot;</desc>');
  });

  it('uses the caller’s labels, and keeps marker ids apart by prefix', () => {
    const svg = renderStatechart(stageMachine, { title: 'S', stateLabel: (id) => `State ${id}`, eventLabel: (e) => `Event ${e}`, idPrefix: 'second' });
    expect(svg).toContain('>State planned<');
    expect(svg).toContain('>Event start<');
    expect(svg).toContain('id="second-arrow"');
    expect(svg).toContain('url(#second-arrow)');
  });

  it('lays out once per machine and labels: the next pictures only redraw', () => {
    renderStatechart(applicationMachine, { title: 'warm', active: 'draft' });
    const start = performance.now();
    for (let i = 0; i < 20; i++) renderStatechart(applicationMachine, { title: 'warm', active: i % 2 ? 'draft' : 'closed' });
    expect((performance.now() - start) / 20).toBeLessThan(15);
  });
});
