/* The KPI dashboard: reads the JSON in #kpi-data, renders the overview and the KPI pages.
   No library, no network: dates are UTC day numbers, charts are inline SVG. */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('kpi-data').textContent);
  var MS = 86400000;
  var KPIS = {};
  D.kpis.forEach(function (k) { KPIS[k.id] = k; });
  var SPARK = { day: 28, week: 13, month: 12, quarter: 8 };
  var DETAIL = { day: 90, week: 52, month: 24, quarter: 8 };

  // ---- dates: integers counting days since 1970-01-01 (UTC) ------------------------------------
  function dayNum(s) { return Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10)) / MS; }
  function iso(n) { return new Date(n * MS).toISOString().slice(0, 10); }
  function ymd(n) { var d = new Date(n * MS); return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()]; }
  function addMonths(n, k) {
    var p = ymd(n); var first = Date.UTC(p[0], p[1] + k, 1) / MS;
    var last = Date.UTC(p[0], p[1] + k + 1, 1) / MS - 1;
    return Math.min(first + p[2] - 1, last);
  }
  function weekStart(n) { return n - ((new Date(n * MS).getUTCDay() + 6) % 7); }
  function monthStart(n) { var p = ymd(n); return Date.UTC(p[0], p[1], 1) / MS; }
  function quarterStart(n) { var p = ymd(n); return Date.UTC(p[0], p[1] - (p[1] % 3), 1) / MS; }
  function bucketStart(g, n) {
    return g === 'day' ? n : g === 'week' ? weekStart(n) : g === 'month' ? monthStart(n) : quarterStart(n);
  }
  function bucketEnd(g, s) {
    if (g === 'day') return s;
    if (g === 'week') return s + 6;
    var p = ymd(s);
    return Date.UTC(p[0], p[1] + (g === 'month' ? 1 : 3), 1) / MS - 1;
  }
  function isoWeek(n) {
    var thursday = weekStart(n) + 3; var y = ymd(thursday)[0];
    var w = Math.floor((thursday - Date.UTC(y, 0, 1) / MS) / 7) + 1;
    return y + '-W' + (w < 10 ? '0' : '') + w;
  }
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  function bucketLabel(g, s) {
    var p = ymd(s);
    if (g === 'week') return isoWeek(s);
    if (g === 'month') return MONTHS[p[1]] + ' ' + p[0];
    if (g === 'quarter') return p[0] + '-Q' + (Math.floor(p[1] / 3) + 1);
    return iso(s);
  }
  function rangeLabel(r) { return r.from === r.to ? iso(r.from) : iso(r.from) + ' to ' + iso(r.to); }

  // ---- numbers -----------------------------------------------------------------------------------
  function grouped(v, digits) {
    return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  function fmt(k, v) {
    if (v === null || v === undefined || !isFinite(v)) return '—';
    var a = Math.abs(v);
    switch (k.unit) {
      case 'fraction': return grouped(v * 100, 2) + '%';
      case 'money': return (v < 0 ? '−' : '') + D.currency_symbol + grouped(a, 2);
      case 'seconds': return a >= 120 ? grouped(v / 60, 1) + ' min' : grouped(v, 1) + ' s';
      case 'minutes':
        if (a < 60) return grouped(v, 1) + ' min';
        return Math.floor(a / 60) + ' h ' + Math.round(a % 60) + ' min';
      case 'position': return grouped(v, 1);
      case 'ratio': return grouped(v, 2);
      default: // counts: whole numbers as such; averages and ratios of counts keep their decimals
        if (Number.isInteger(v) || a >= 100) return grouped(v, 0);
        return grouped(v, a >= 10 ? 1 : 2);
    }
  }
  function pct(x) { return (x * 100).toFixed(1) + '%'; }

  // ---- values ------------------------------------------------------------------------------------
  function seriesOf(k, seg) { var s = D.series[k.id]; return s ? s[seg] : undefined; }
  function segmentsOf(k) { return Object.keys(D.series[k.id] || {}).filter(function (s) { return s !== 'all'; }); }

  function dayValue(s, i) {  // a ratio's day value is numerator / denominator (safe_divide)
    if (s.v) return s.v[i];
    return s.n[i] === null || s.d[i] === null || s.d[i] === 0 ? null : s.n[i] / s.d[i];
  }
  function lastDay(s) { return dayNum(s.start) + (s.v || s.n).length - 1; }

  function rollUp(k, s, from, to) {
    // The catalog's rule over the day rows from..to (the same as kpi_values and dashboard_data.roll_up).
    var first = dayNum(s.start), lo = Math.max(from - first, 0), hi = Math.min(to - first, (s.v || s.n).length - 1);
    if (from === to) return from >= first && hi >= lo ? dayValue(s, lo) : null;  // the day row itself
    var sum = 0, num = 0, den = 0, seen = 0, dens = 0, last = null;
    for (var i = lo; i <= hi; i++) {
      var v = s.v ? s.v[i] : null;
      if (v !== null) { sum += v; seen++; last = v; }
      if (s.n) { if (s.n[i] !== null) num += s.n[i]; if (s.d[i] !== null) { den += s.d[i]; dens++; } }
    }
    if (k.aggregation === 'sum') return seen ? sum : null;
    if (k.aggregation === 'snapshot') return last;
    return dens && den !== 0 ? num / den : null;
  }

  function periodRow(k, seg, from, to) {
    // A week or month row of kpi_values for the range (KPIs that cannot be rolled up from days).
    var byGrain = ((D.periods[k.id] || {})[seg]) || {};
    var grains = ['week', 'month'];
    for (var g = 0; g < grains.length; g++) {
      var rows = byGrain[grains[g]] || [];
      for (var i = 0; i < rows.length; i++) {
        var start = dayNum(rows[i][0]), end = bucketEnd(grains[g], start);
        if (start === from && (end === to || (to === dataEnd && to < end))) {
          return { value: rows[i][1], partial: !rows[i][2] };
        }
      }
    }
    return null;
  }

  // {value, partial, state: ok | unavailable | nodata | nohistory, reason}
  // strict (comparisons): a range that starts before the history is not compared against.
  function valueFor(k, seg, from, to, strict) {
    var s = seriesOf(k, seg);
    if (!s) return { value: null, state: 'nodata', reason: 'no rows for this segment' };
    var first = dayNum(s.start), last = lastDay(s);
    if (to < first || (strict && from < first)) return { value: null, state: 'nohistory', reason: 'no history that far back' };
    if (from > last) return { value: null, state: 'nodata', reason: 'no data yet for this period' };
    var partial = from < first || to > last;
    if (k.rollup === 'periods' && from !== to) {
      var row = periodRow(k, seg, from, to);
      if (row) return { value: row.value, partial: row.partial, state: row.value === null ? 'nodata' : 'ok' };
      return {
        value: null, state: 'unavailable',
        reason: k.aggregation === 'unique'
          ? 'a unique count is pulled per day, week and month: not available for this range'
          : 'computed per day, week and month from its own definition: not available for this range'
      };
    }
    var v = rollUp(k, s, from, to);
    return { value: v, partial: partial, state: v === null ? 'nodata' : 'ok' };
  }

  function buckets(k, seg, grain, end, count) {
    var s = seriesOf(k, seg), out = [];
    var start = bucketStart(grain, end);
    for (var i = 0; i < count; i++) {
      var b = { start: start, end: bucketEnd(grain, start) };
      b.label = bucketLabel(grain, start);
      var r = valueFor(k, seg, b.start, b.end > dataEnd ? dataEnd : b.end);
      if (r.state === 'ok' && b.end > dataEnd) r.partial = true;
      b.value = r.state === 'ok' ? r.value : null;
      b.partial = !!r.partial; b.state = r.state; b.reason = r.reason;
      out.unshift(b);
      start = bucketStart(grain, start - 1);
      if (!s || bucketEnd(grain, start) < dayNum(s.start)) break;
    }
    // History starts mid-period: leading partial buckets would look like a collapse; drop them.
    while (out.length && (out[0].value === null || (out[0].partial && s && out[0].start < dayNum(s.start)))) out.shift();
    return out;
  }

  // ---- state ---------------------------------------------------------------------------------------
  var dataEnd = D.data_end ? dayNum(D.data_end) : 0;
  var state = { grain: 'week', period: 'last_week', compare: 'previous', segment: 'all', from: '', to: '', kpi: '' };
  var $ = function (id) { return document.getElementById(id); };

  function periodRange(p) {
    var E = dataEnd, s;
    if (p === 'last_week') { s = weekStart(E); return E === s + 6 ? { from: s, to: E } : { from: s - 7, to: s - 1 }; }
    if (p === 'last_month' || p === 'last_quarter') {
      var g = p === 'last_month' ? 'month' : 'quarter'; s = bucketStart(g, E);
      if (E === bucketEnd(g, s)) return { from: s, to: E };
      var prev = bucketStart(g, s - 1); return { from: prev, to: s - 1 };
    }
    if (p === 'mtd') return { from: monthStart(E), to: E };
    if (p === 'qtd') return { from: quarterStart(E), to: E };
    var from = state.from ? dayNum(state.from) : E - 27, to = state.to ? dayNum(state.to) : E;
    return from <= to ? { from: from, to: to } : { from: to, to: from };
  }
  function monthEnd(n) { return bucketEnd('month', monthStart(n)); }
  function backMonths(r, m) {
    // m months earlier; a range ending on a month's last day ends on that month's last day
    var to = r.to === monthEnd(r.to) ? monthEnd(addMonths(monthStart(r.to), -m)) : addMonths(r.to, -m);
    return { from: addMonths(r.from, -m), to: to };
  }
  function shifted(r, how) {
    // previous: the previous week / month / quarter (to the same day for month and quarter to
    // date), else the same number of days just before; year: the same period a year earlier
    // (52 weeks back for whole ISO weeks, so weekdays line up).
    var len = r.to - r.from + 1, p = state.period;
    var weeks = r.from === weekStart(r.from) && len % 7 === 0;
    var months = p === 'last_month' || p === 'mtd' ? 1 : p === 'last_quarter' || p === 'qtd' ? 3 : 0;
    if (p === 'custom' && r.from === monthStart(r.from) && r.to === monthEnd(r.to)) {  // whole months
      var a = ymd(r.from), b = ymd(r.to);
      months = (b[0] - a[0]) * 12 + b[1] - a[1] + 1;
    }
    if (how === 'year') return weeks && !months ? { from: r.from - 364, to: r.to - 364 } : backMonths(r, 12);
    if (months) return backMonths(r, months);
    return { from: r.from - len, to: r.from - 1 };
  }

  function readControls() {
    state.grain = $('grain').value; state.period = $('period').value; state.compare = $('compare').value;
    state.segment = $('segment').value; state.from = $('from').value; state.to = $('to').value;
    $('custom').hidden = state.period !== 'custom';
  }
  function writeHash() {
    var parts = ['grain', 'period', 'compare', 'segment', 'from', 'to', 'kpi'].filter(function (k) { return state[k]; })
      .map(function (k) { return k + '=' + encodeURIComponent(state[k]); });
    history.replaceState(null, '', '#' + parts.join('&'));
  }
  function readHash() {
    location.hash.slice(1).split('&').forEach(function (pair) {
      var kv = pair.split('='); if (kv[0] in state && kv[1] !== undefined) state[kv[0]] = decodeURIComponent(kv[1]);
    });
    ['grain', 'period', 'compare', 'segment', 'from', 'to'].forEach(function (k) {
      var el = $(k);
      if (!state[k]) return;
      if (el.tagName !== 'SELECT' || el.querySelector('option[value="' + CSS.escape(state[k]) + '"]')) el.value = state[k];
    });
  }

  // ---- targets, drift, annotations -----------------------------------------------------------------
  function statusFor(k, seg, r) {
    var bySeg = ((D.status[k.id] || {})[seg]) || {};
    var gs = ['week', 'month'];
    for (var g = 0; g < gs.length; g++) {
      var rows = bySeg[gs[g]] || [];
      for (var i = rows.length - 1; i >= 0; i--) {
        var st = dayNum(rows[i].start), en = dayNum(rows[i].end);
        if (st === r.from && (en === r.to || (r.to === dataEnd && r.to < en))) { rows[i].grain = gs[g]; return rows[i]; }
      }
    }
    return null;
  }
  function targetsByBucket(k, seg, grain) {
    var out = {}; var rows = (((D.status[k.id] || {})[seg]) || {})[grain] || [];
    rows.forEach(function (r) { if (r.target !== null) out[dayNum(r.start)] = r.target; });
    return out;
  }
  function driftIn(k, from, to) {
    return (D.drift[k.id] || []).filter(function (f) { var d = dayNum(f.day); return d >= from && d <= to; });
  }
  function notesIn(k, from, to) {
    return D.annotations.filter(function (a) {
      var concerns = !a.kpis.length || a.kpis.indexOf(k.id) >= 0 || a.kpis.indexOf(k.channel) >= 0;
      return concerns && dayNum(a.end) >= from && dayNum(a.start) <= to;
    });
  }

  // ---- chart ---------------------------------------------------------------------------------------
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; }); }
  function chart(k, seg, grain, bs, opts) {
    var W = opts.width, H = opts.height, pad = opts.pad, top = opts.top || 6;
    var targets = targetsByBucket(k, seg, grain);
    var vals = bs.map(function (b) { return b.value; }).filter(function (v) { return v !== null; });
    var tvals = bs.map(function (b) { return targets[b.start]; }).filter(function (v) { return v !== undefined; });
    if (!vals.length) return '<svg class="chart" viewBox="0 0 ' + W + ' ' + H + '" role="img" aria-label="no data for this choice"></svg>';
    var all = vals.concat(tvals), lo = Math.min.apply(null, all), hi = Math.max.apply(null, all);
    if (lo > 0 && opts.zero) lo = 0;
    var span = (hi - lo) || Math.abs(hi) || 1;
    var x = function (i) { return pad + i * (W - 2 * pad) / Math.max(bs.length - 1, 1); };
    var y = function (v) { return H - pad - (v - lo) / span * (H - pad - top); };
    var solid = [], dashed = [], parts = [];
    var first = bs[0].start, last = bucketEnd(grain, bs[bs.length - 1].start);
    // annotations: a band from the event's first to last bucket, numbered
    notesIn(k, first, last).forEach(function (a, n) {
      var i0 = 0, i1 = 0;
      bs.forEach(function (b, i) { if (b.end < dayNum(a.start)) i0 = i + 1; if (b.start <= dayNum(a.end)) i1 = i; });
      var x0 = x(Math.min(i0, bs.length - 1)) - 2, x1 = x(i1) + 2;
      parts.push('<g class="annotation"><rect x="' + x0.toFixed(1) + '" y="0" width="' + Math.max(x1 - x0, 4).toFixed(1) + '" height="' + H +
        '" fill="#7c3aed" opacity="0.12"/><title>' + esc(a.start + ': ' + a.title + (a.note ? ' (' + a.note + ')' : '')) + '</title></g>');
    });
    var prev = null;
    bs.forEach(function (b, i) {
      if (b.value === null) { prev = null; return; }
      var pt = x(i).toFixed(1) + ',' + y(b.value).toFixed(1);
      if (prev) (b.partial || prev.partial ? dashed : solid).push('M' + prev.pt + 'L' + pt);
      prev = { pt: pt, partial: b.partial };
    });
    var tline = [];
    bs.forEach(function (b, i) { if (targets[b.start] !== undefined) tline.push(x(i).toFixed(1) + ',' + y(targets[b.start]).toFixed(1)); });
    if (tline.length > 1) parts.push('<polyline class="target" fill="none" stroke="#4b5563" stroke-width="1.5" stroke-dasharray="5 3" points="' + tline.join(' ') + '"/>');
    else if (tline.length === 1) { var tp = tline[0].split(','); parts.push('<line class="target" x1="' + pad + '" x2="' + (W - pad) + '" y1="' + tp[1] + '" y2="' + tp[1] + '" stroke="#4b5563" stroke-dasharray="5 3"/>'); }
    if (solid.length) parts.push('<path class="trend" fill="none" stroke="#1d4ed8" stroke-width="2" d="' + solid.join('') + '"/>');
    if (dashed.length) parts.push('<path class="trend partial" fill="none" stroke="#1d4ed8" stroke-width="2" stroke-dasharray="3 3" d="' + dashed.join('') + '"/>');
    var lastIndex = -1;
    bs.forEach(function (b, i) { if (b.value !== null) lastIndex = i; });
    bs.forEach(function (b, i) {
      if (b.value === null) return;
      var drift = driftIn(k, b.start, b.end);
      var cx = x(i).toFixed(1), cy = y(b.value).toFixed(1);
      if (b.partial || opts.dots || i === lastIndex) {  // the latest point always shows
        parts.push('<circle class="point' + (b.partial ? ' partial' : '') + '" cx="' + cx + '" cy="' + cy + '" r="3" fill="' + (b.partial ? '#fff' : '#1d4ed8') +
          '" stroke="#1d4ed8" stroke-width="1.5"><title>' + esc(b.label + ': ' + fmt(k, b.value) + (b.partial ? ' (partial)' : '')) + '</title></circle>');
      }
      if (drift.length) {
        var sev = drift.some(function (d) { return d.severity === 'ERROR'; }) ? 'ERROR' : 'WARN';
        parts.push('<g class="drift"><path d="M' + cx + ',' + (+cy - 12) + 'l5,8h-10z" fill="' + (sev === 'ERROR' ? '#b42318' : '#b54708') + '"/><title>' +
          esc(drift.map(function (d) { return d.text; }).join('\n')) + '</title></g>');
      }
    });
    if (opts.axis) {
      parts.push('<text x="' + pad + '" y="' + (H - 2) + '" class="axis">' + esc(bs[0].label) + '</text>');
      parts.push('<text x="' + (W - pad) + '" y="' + (H - 2) + '" class="axis" text-anchor="end">' + esc(bs[bs.length - 1].label) + '</text>');
      parts.push('<text x="' + pad + '" y="10" class="axis">' + esc(fmt(k, hi)) + '</text>');
    }
    var lastB = bs[bs.length - 1];
    var label = k.name + ' by ' + grain + ', ' + bs.length + ' periods from ' + bs[0].label + ' to ' + lastB.label +
      '; latest ' + fmt(k, lastB.value) + (lastB.partial ? ' (partial period)' : '') + (tline.length ? '; dashed grey line: target' : '');
    return '<svg class="chart" viewBox="0 0 ' + W + ' ' + H + '"' + (opts.axis ? '' : ' preserveAspectRatio="none"') + ' role="img" aria-label="' + esc(label) + '">' + parts.join('') + '</svg>';
  }

  // ---- overview ------------------------------------------------------------------------------------
  function changeHtml(k, cur, cmp) {
    if (cur.state !== 'ok') return '<span class="change" data-raw=""></span>';
    if (cmp.state !== 'ok' || !cmp.value) {
      var why = cmp.state === 'nohistory' ? 'no history for the comparison' : 'no comparison';
      return '<span class="change" data-raw="">' + why + '</span>';
    }
    var ch = (cur.value - cmp.value) / Math.abs(cmp.value);
    var good = (ch >= 0) === (k.direction === 'higher');
    var word = ch === 0 ? 'unchanged' : good ? 'better' : 'worse';
    return '<span class="change ' + (ch === 0 ? '' : good ? 'good' : 'bad') + '" data-raw="' + ch + '">' + (ch >= 0 ? '▲ ' : '▼ ') +
      pct(Math.abs(ch)) + ' <span class="sr">(' + word + ')</span></span>';
  }
  function statusHtml(k, st) {
    if (!st || st.target === null) return '<span class="status no_target">no target</span>';
    var text = '<span class="status ' + esc(st.status) + '">' + esc(st.status.replace(/_/g, ' ')) + '</span> ' +
      st.grain + ' target ' + fmt(k, st.target);
    if (st.expected !== null && st.actual !== null) {
      text += '<br><span class="pacing">pacing: ' + fmt(k, st.actual) + ' actual vs ' + fmt(k, st.expected) + ' expected by ' + esc(st.as_of || '') +
        (st.gap_pct !== null ? ' (' + (st.gap_pct >= 0 ? '+' : '') + pct(st.gap_pct) + ')' : '') + '</span>';
    }
    return text;
  }

  var current = [];  // rows of the overview table, for the CSV export
  function renderOverview() {
    var r = periodRange(state.period), c = shifted(r, state.compare);
    var seg = state.segment, grain = state.grain;
    var compareWord = state.compare === 'year' ? 'same period last year' : 'previous period';
    $('summary').textContent = 'Showing ' + rangeLabel(r) + (seg === 'all' ? ', company-wide' : ', segment ' + seg) +
      ', compared with the ' + compareWord + ' (' + rangeLabel(c) + '); charts by ' + grain + '. Data up to ' + D.data_end + '.';
    current = [];
    document.querySelectorAll('#overview .tile').forEach(function (tile) {
      var k = KPIS[tile.dataset.kpi];
      var cur = valueFor(k, seg, r.from, r.to), cmp = valueFor(k, seg, c.from, c.to, true);
      var st = statusFor(k, seg, r);
      var bs = buckets(k, seg, grain, Math.min(r.to, dataEnd), SPARK[grain]);
      var v = tile.querySelector('.value');
      v.textContent = cur.state === 'ok' ? fmt(k, cur.value) : cur.state === 'unavailable' ? 'unavailable' : '—';
      v.dataset.raw = cur.state === 'ok' ? cur.value : '';
      v.dataset.state = cur.state;
      tile.dataset.partial = cur.partial ? '1' : '';
      tile.querySelector('.partial-note').textContent = cur.partial ? 'partial period' : '';
      tile.querySelector('.reason').textContent = cur.state === 'ok' ? '' : (cur.reason || '');
      tile.querySelector('.compare').innerHTML = changeHtml(k, cur, cmp) + ' vs <span class="compare-value" data-raw="' +
        (cmp.state === 'ok' ? cmp.value : '') + '">' + (cmp.state === 'ok' ? fmt(k, cmp.value) : '—') + '</span>';
      tile.querySelector('.target-status').innerHTML = statusHtml(k, st);
      tile.style.borderTopColor = st ? ({ on_track: '#1a7f37', at_risk: '#b54708', off_track: '#b42318' }[st.status] || '#6b7280') : '#6b7280';
      var drift = driftIn(k, r.from, r.to);
      tile.querySelector('.drift-note').textContent = drift.length ? drift.length + ' drift finding' + (drift.length > 1 ? 's' : '') + ' in this period' : '';
      tile.querySelector('.spark').innerHTML = chart(k, seg, grain, bs, { width: 260, height: 64, pad: 6 });
      tile.classList.toggle('dim', cur.state === 'nodata' && seg !== 'all');
      current.push([k.id, k.name, seg, iso(r.from), iso(r.to), cur.state === 'ok' ? cur.value : '', k.unit, cur.partial ? 'partial' : '',
        iso(c.from), iso(c.to), cmp.state === 'ok' ? cmp.value : '', st && st.target !== null ? st.target : '', st ? st.status : '']);
    });
  }

  // ---- KPI page --------------------------------------------------------------------------------------
  function table(caption, head, rows, cls) {
    // wrapped: a wide table scrolls by itself (focusable, so by keyboard too), never the page
    return '<div class="table-wrap" tabindex="0" role="region" aria-label="' + esc(caption) + '"><table class="' + (cls || '') +
      '"><caption>' + esc(caption) + '</caption><thead><tr>' +
      head.map(function (h) { return '<th scope="col">' + esc(h) + '</th>'; }).join('') + '</tr></thead><tbody>' +
      rows.join('') + '</tbody></table></div>';
  }
  var detailRows = [];
  function renderDetail() {
    var k = KPIS[state.kpi];
    var page = $('detail');
    if (!k) { page.hidden = true; $('overview').hidden = false; return; }
    var r = periodRange(state.period), c = shifted(r, state.compare), seg = state.segment, grain = state.grain;
    var bs = buckets(k, seg, grain, Math.min(r.to, dataEnd), DETAIL[grain]);
    var targets = targetsByBucket(k, seg, grain);
    detailRows = bs.map(function (b) { return [b.label, iso(b.start), iso(Math.min(b.end, dataEnd)), b.value === null ? '' : b.value, b.partial ? 'partial' : '', targets[b.start] === undefined ? '' : targets[b.start]]; });
    var seriesRows = bs.slice().reverse().map(function (b) {
      var drift = driftIn(k, b.start, b.end);
      return '<tr data-start="' + iso(b.start) + '"><th scope="row">' + esc(b.label) + '</th><td class="num" data-raw="' + (b.value === null ? '' : b.value) + '">' +
        (b.value === null ? (b.state === 'unavailable' ? 'unavailable' : '—') : fmt(k, b.value)) + '</td><td>' + (b.partial ? 'partial' : '') +
        '</td><td class="num">' + (targets[b.start] === undefined ? '' : fmt(k, targets[b.start])) + '</td><td>' +
        esc(drift.map(function (d) { return d.severity + ' ' + d.day; }).join(', ')) + '</td></tr>';
    });
    var segRows = segmentsOf(k).map(function (s) {
      var cur = valueFor(k, s, r.from, r.to), cmp = valueFor(k, s, c.from, c.to, true);
      return '<tr data-segment="' + esc(s) + '"><th scope="row">' + esc(s) + '</th><td class="num" data-raw="' + (cur.state === 'ok' ? cur.value : '') + '">' +
        (cur.state === 'ok' ? fmt(k, cur.value) : cur.state === 'unavailable' ? 'unavailable' : '—') + '</td><td class="num">' +
        (cmp.state === 'ok' ? fmt(k, cmp.value) : '—') + '</td><td>' + changeHtml(k, cur, cmp) + '</td></tr>';
    });
    var drift = (D.drift[k.id] || []).slice(-12).reverse().map(function (d) {
      return '<li><strong>' + esc(d.severity + ' ' + d.day) + '</strong>: ' + esc(d.text) + '</li>';
    });
    var notes = notesIn(k, -1e9, 1e9).map(function (a) {
      return '<li><strong>' + esc(a.start + (a.end !== a.start ? ' to ' + a.end : '')) + '</strong>: ' + esc(a.title) + (a.note ? ' (' + esc(a.note) + ')' : '') + '</li>';
    });
    var revs = (D.revisions[k.id] || []).map(function (v) {
      return '<tr><th scope="row">' + esc(v.day) + '</th><td>' + v.revision + '</td><td class="num">' + fmt(k, v.previous) + '</td><td class="num">' + fmt(k, v.value) +
        '</td><td class="num">' + (v.change_pct === null ? '' : pct(v.change_pct)) + '</td><td>' + esc(v.recorded_at) + '</td></tr>';
    });
    var cur = valueFor(k, seg, r.from, r.to);
    page.innerHTML = '<button type="button" id="back" class="button">← All KPIs</button>' +
      '<h2 id="detail-title" tabindex="-1">' + esc(k.name) + ' <code>' + esc(k.id) + '</code></h2>' +
      '<p class="detail-value"><span class="value" data-raw="' + (cur.state === 'ok' ? cur.value : '') + '">' + (cur.state === 'ok' ? fmt(k, cur.value) : cur.state === 'unavailable' ? 'unavailable' : '—') +
      '</span> ' + esc(rangeLabel(r)) + (cur.partial ? ' (partial period)' : '') + (seg === 'all' ? '' : ', segment ' + esc(seg)) + '</p>' +
      '<div class="big-chart" id="detail-chart">' + chart(k, seg, grain, bs, { width: 800, height: 240, pad: 24, top: 16, dots: true, axis: true }) + '</div>' +
      '<p class="legend"><span class="key line"></span> value <span class="key dashed"></span> partial period <span class="key target"></span> target ' +
      '<span class="key drift"></span> drift finding <span class="key note"></span> team annotation</p>' +
      '<div class="actions"><button type="button" class="button" id="detail-csv">Download CSV</button> <button type="button" class="button" id="detail-png">Download chart as PNG</button></div>' +
      '<div class="detail-grid"><div>' + table(k.name + ' by ' + grain, [grain, 'value', 'partial', 'target', 'drift'], seriesRows, 'series') + '</div><div>' +
      (segRows.length ? table('Segments, ' + rangeLabel(r) + ' vs ' + rangeLabel(c), ['segment', 'value', 'comparison', 'change'], segRows, 'segments') : '<p>No segment rows for this KPI.</p>') +
      '<h3>Definition</h3><dl><dt>Formula</dt><dd>' + esc(k.formula) + '</dd><dt>Unit</dt><dd>' + esc(k.unit === 'money' ? 'money (' + D.currency + ')' : k.unit) +
      '</dd><dt>Better when</dt><dd>' + (k.direction === 'higher' ? 'higher' : 'lower') + '</dd><dt>Roll-up</dt><dd>' + esc(k.aggregation) +
      (k.rollup === 'periods' ? ' (per period: no quarters or custom ranges)' : '') + '</dd><dt>Sources</dt><dd>' + esc(k.sources.join(', ')) + '</dd></dl>' +
      '<h3>Drift findings</h3>' + (drift.length ? '<ul>' + drift.join('') + '</ul>' : '<p>None.</p>') +
      '<h3>Team annotations</h3>' + (notes.length ? '<ul>' + notes.join('') + '</ul>' : '<p>None (config/annotations.yml).</p>') +
      '<h3>Latest revisions</h3>' + (revs.length ? table('Restated days (marts.kpi_revisions)', ['day', 'revision', 'before', 'after', 'change', 'recorded'], revs, 'revisions') : '<p>No restated days.</p>') +
      '</div></div>';
    $('overview').hidden = true; page.hidden = false;
    $('back').addEventListener('click', function () { var id = state.kpi; state.kpi = ''; writeHash(); renderDetail(); focusTile(id); });
    $('detail-csv').addEventListener('click', function () { download(k.id + '-' + grain + '.csv', csv([['period', 'start', 'end', 'value', 'partial', 'target']].concat(detailRows)), 'text/csv'); });
    $('detail-png').addEventListener('click', function () { png(page.querySelector('svg'), k.id + '.png'); });
  }
  function focusTile(id) { var b = document.querySelector('.tile[data-kpi="' + id + '"] .open'); if (b) b.focus(); }

  // ---- export --------------------------------------------------------------------------------------
  function csv(rows) {
    return rows.map(function (row) {
      return row.map(function (c) { c = String(c); return /[",\n]/.test(c) ? '"' + c.replace(/"/g, '""') + '"' : c; }).join(',');
    }).join('\n') + '\n';
  }
  function download(name, text, type) {
    var a = document.createElement('a');
    a.href = typeof text === 'string' && text.indexOf('data:') === 0 ? text : URL.createObjectURL(new Blob([text], { type: type }));
    a.download = name; document.body.appendChild(a); a.click(); a.remove();
  }
  function png(svg, name) {
    var box = svg.viewBox.baseVal, xml = new XMLSerializer().serializeToString(svg);
    var img = new Image();
    img.onload = function () {
      var canvas = document.createElement('canvas'); canvas.width = box.width * 2; canvas.height = box.height * 2;
      var ctx = canvas.getContext('2d'); ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(img, 0, 0, canvas.width, canvas.height); download(name, canvas.toDataURL('image/png'));
    };
    img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(xml);  // the serializer adds the SVG namespace
  }

  // ---- wiring --------------------------------------------------------------------------------------
  function render() {
    readControls(); writeHash();
    $('from').value = $('from').value || iso(dataEnd - 27); $('to').value = $('to').value || iso(dataEnd);
    renderOverview(); renderDetail();
    var body = document.body.dataset;  // counts for quick checks (tests/test_end_to_end.py)
    body.tiles = document.querySelectorAll('#overview .tile').length;
    body.charts = document.querySelectorAll('#overview .tile svg.chart').length;
    body.trends = [].filter.call(document.querySelectorAll('#overview .tile svg.chart'), function (svg) {
      return svg.querySelector('.point');  // charts that plot at least one value
    }).length;
    body.ready = '1';
  }
  function init() {
    var segs = {};
    D.kpis.forEach(function (k) { segmentsOf(k).forEach(function (s) { var dim = s.split('=')[0]; (segs[dim] = segs[dim] || {})[s] = 1; }); });
    var select = $('segment');
    Object.keys(segs).sort().forEach(function (dim) {
      var group = document.createElement('optgroup'); group.label = dim.replace(/_/g, ' ');
      Object.keys(segs[dim]).sort().forEach(function (s) { var o = document.createElement('option'); o.value = s; o.textContent = s.split('=').slice(1).join('='); group.appendChild(o); });
      select.appendChild(group);
    });
    $('from').min = $('to').min = D.first_day || ''; $('from').max = $('to').max = D.data_end || '';
    readHash();
    ['grain', 'period', 'compare', 'segment', 'from', 'to'].forEach(function (id) { $(id).addEventListener('change', render); });
    document.querySelectorAll('#overview .tile .open').forEach(function (b) {
      b.addEventListener('click', function () { state.kpi = b.closest('.tile').dataset.kpi; writeHash(); renderDetail(); $('detail-title').focus(); });
    });
    $('csv').addEventListener('click', function () {
      download('kpis.csv', csv([['kpi_id', 'name', 'segment', 'from', 'to', 'value', 'unit', 'partial', 'comparison_from', 'comparison_to', 'comparison_value', 'target', 'status']].concat(current)), 'text/csv');
    });
    $('print').addEventListener('click', function () { window.print(); });
    if (!D.data_end) { $('summary').textContent = 'No KPI values yet: run the pipeline first.'; document.body.dataset.ready = '1'; return; }
    render();
    if (state.kpi) $('detail-title').focus();
  }
  window.addEventListener('error', function (e) { document.body.dataset.errors = (document.body.dataset.errors || '') + e.message + ';'; });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
  window.kpiDashboard = { valueFor: valueFor, periodRange: periodRange, shifted: shifted, iso: iso, dayNum: dayNum, fmt: fmt, kpis: KPIS };
})();
