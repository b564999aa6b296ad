/*
 * Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License. You may obtain
 * a copy of the License at
 *
 *      http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
 * WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
 * License for the specific language governing permissions and limitations
 * under the License.
 */

/*
 * The sodos status page. It polls the snapshot (GET /v1/dashboard) and
 * draws it with D3 (scales, axes, ticks and zoom): the sites on a world
 * map at their configured locations, a timeline of the last hour, and
 * tables of alerts, actions, sites and members. Nothing is fetched from
 * outside the API: the world map is a packaged Natural Earth outline.
 *
 * For tests and benchmarks, the page keeps window.sodosPage: when it was
 * first completely drawn, when each site's shown state last changed, and
 * the errors it met.
 */
(function () {
  'use strict';

  var POLL_MS = 1000;
  var STATES = [
    ['up', '#2e7d32', 'up'],
    ['draining', '#f9a825', 'draining (members moving off)'],
    ['drained', '#616161', 'drained'],
    ['down', '#c62828', 'down'],
    ['left', '#bdbdbd', 'left the federation'],
    ['unknown', '#90a4ae', 'unknown']
  ];
  var COLOURS = {};
  STATES.forEach(function (s) { COLOURS[s[0]] = s[1]; });
  var MAP_W = 960, MAP_H = 480;
  var LANE_H = 24, LEFT = 120, RIGHT = 20, AXIS_H = 28;

  var body = document.body;
  var snapshotUrl = body.getAttribute('data-snapshot');
  var staticUrl = body.getAttribute('data-static');
  var page = window.sodosPage = {
    firstRender: null, renders: 0, world: false, seen: {}, errors: []
  };
  // Kept for whoever checks the page: a script error, or anything the
  // page's Content-Security-Policy refused.
  window.addEventListener('error', function (e) {
    page.errors.push(String(e.message));
  });
  document.addEventListener('securitypolicyviolation', function (e) {
    page.errors.push('CSP refused ' + e.blockedURI + ' (' +
                     e.violatedDirective + ')');
  });
  var token = window.sessionStorage.getItem('sodos-token');
  var last = null;

  function iso(t) {
    if (t === null || t === undefined) { return ''; }
    return new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  function seconds(a, b) { return (b - a).toFixed(1) + ' s'; }

  function siteState(site) {
    if (site.status === 'down' || site.status === 'left') {
      return site.status;
    }
    if (site.maintenance === 'draining' || site.maintenance === 'drained') {
      return site.maintenance;
    }
    return site.status === 'up' ? 'up' : 'unknown';
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function stateBadge(state) {
    var badge = el('span', {'class': 'state'}, state);
    badge.style.background = COLOURS[state] || COLOURS.unknown;
    return badge;
  }

  /* A table from rows; a column is [title, function(row) -> text or
     node, optional class]; rowAttrs(row) gives the row's attributes. */
  function fill(id, columns, rows, rowAttrs, empty) {
    var table = document.getElementById(id);
    table.textContent = '';
    var head = el('tr');
    columns.forEach(function (c) { head.appendChild(el('th', {}, c[0])); });
    table.appendChild(head);
    if (!rows.length) {
      var tr = el('tr');
      tr.appendChild(el('td', {'colspan': columns.length, 'class': 'empty'},
                        empty));
      table.appendChild(tr);
    }
    rows.forEach(function (row) {
      var tr = el('tr', rowAttrs ? rowAttrs(row) : {});
      columns.forEach(function (c) {
        var value = c[1](row);
        var td = el('td', c[2] ? {'class': c[2]} : {});
        if (value instanceof Node) { td.appendChild(value); }
        else { td.textContent = value === null ? '' : String(value); }
        tr.appendChild(td);
      });
      table.appendChild(tr);
    });
  }

  function legend() {
    var box = document.getElementById('legend');
    STATES.forEach(function (s) {
      var item = el('span');
      item.innerHTML = '<svg width="14" height="14"><circle cx="7" cy="7" ' +
        'r="6" fill="' + s[1] + '"/></svg>';
      item.appendChild(document.createTextNode(s[2]));
      box.appendChild(item);
    });
    var marks = el('span');
    marks.innerHTML = '<svg width="14" height="14"><circle cx="7" cy="7" ' +
      'r="5" fill="#fff" stroke="#000" stroke-width="2.5"/></svg>voter ' +
      '&nbsp; <svg width="22" height="22"><circle cx="11" cy="11" r="6" ' +
      'fill="#fff" stroke="#000" stroke-width="2.5"/><circle cx="11" ' +
      'cy="11" r="10" fill="none" stroke="#000" stroke-dasharray="3,2"/>' +
      '</svg>leader &nbsp; <svg width="22" height="12"><rect width="22" ' +
      'height="12" fill="#c62828" opacity=".35"/></svg>outage ' +
      '(<b class="mark-detected">|</b> detected, <b class="mark-replaced">' +
      '&#9670;</b> members running elsewhere, <b class="mark-recovered">|' +
      '</b> site back up)';
    box.appendChild(marks);
  }

  /* -- the map ------------------------------------------------------ */

  var map = d3.select('#map');
  var mapLayer = map.append('g');
  var countries = mapLayer.append('g');
  var markers = mapLayer.append('g');
  var mapScale = 1;
  map.call(d3.behavior.zoom().scaleExtent([1, 16]).on('zoom', function () {
    mapScale = d3.event.scale;
    mapLayer.attr('transform', 'translate(' + d3.event.translate +
                  ')scale(' + mapScale + ')');
    markers.selectAll('g.site').attr('transform', markerTransform);
  }));

  function project(loc) {
    return [(loc.lon + 180) / 360 * MAP_W, (90 - loc.lat) / 180 * MAP_H];
  }

  function ringPath(ring) {
    var parts = [];
    for (var i = 0; i < ring.length; i += 2) {
      parts.push(project({lon: ring[i], lat: ring[i + 1]}).map(function (v) {
        return v.toFixed(1);
      }).join(','));
    }
    return 'M' + parts.join('L') + 'Z';
  }

  function drawWorld(data) {
    countries.selectAll('path').data(data.countries).enter()
      .append('path').attr('class', 'country')
      .attr('d', function (c) { return c.rings.map(ringPath).join(''); })
      .append('title').text(function (c) { return c.name; });
    page.world = true;
  }

  /* Where each site is drawn: at its location, or (without one) in a
     row along the bottom of the map. */
  function positions(sites) {
    var placed = {}, unplaced = 0;
    sites.forEach(function (s) {
      placed[s.name] = s.location ? project(s.location) :
        [20 + 90 * unplaced++, MAP_H - 14];
    });
    return placed;
  }

  function markerTransform(d) {
    return 'translate(' + d.xy[0] + ',' + d.xy[1] + ')scale(' +
      (1 / mapScale) + ')';
  }

  function siteTitle(s) {
    return [s.name + ': ' + siteState(s) +
            (s.leader ? ', leader' : s.voter ? ', voter' : ''),
            'region ' + s.region,
            s.location ? 'location ' + s.location.lat + ', ' +
              s.location.lon : 'no location configured',
            s.members + ' member(s) placed here',
            'status since ' + (iso(s.updated_at) || 'unknown')].join('\n');
  }

  function drawSites(snapshot) {
    var xy = positions(snapshot.sites);
    var data = snapshot.sites.map(function (s) {
      return {site: s, xy: xy[s.name], state: siteState(s)};
    });
    var groups = markers.selectAll('g.site')
      .data(data, function (d) { return d.site.name; });
    var added = groups.enter().append('g').attr('class', 'site');
    added.append('circle').attr('class', 'leader-ring').attr('r', 12)
      .attr('fill', 'none').attr('stroke', '#000')
      .attr('stroke-dasharray', '3,2');
    added.append('circle').attr('class', 'site').attr('r', 7);
    added.append('text').attr('class', 'site-label').attr('x', 14)
      .attr('y', 4);
    added.append('title');
    groups.exit().remove();
    groups.attr('transform', markerTransform)
      .attr('data-site', function (d) { return d.site.name; })
      .attr('data-state', function (d) { return d.state; })
      .attr('data-leader', function (d) { return d.site.leader; })
      .attr('data-voter', function (d) { return d.site.voter; });
    groups.select('circle.leader-ring')
      .attr('visibility', function (d) {
        return d.site.leader ? 'visible' : 'hidden';
      });
    groups.select('circle.site')
      .attr('fill', function (d) { return COLOURS[d.state]; })
      .attr('stroke', function (d) { return d.site.voter ? '#000' : '#fff'; })
      .attr('stroke-width', function (d) { return d.site.voter ? 2.5 : 1.5; });
    // Labels of sites near the right edge go to their left.
    groups.select('text')
      .attr('text-anchor', function (d) {
        return d.xy[0] > MAP_W * 0.75 ? 'end' : 'start';
      })
      .attr('x', function (d) { return d.xy[0] > MAP_W * 0.75 ? -14 : 14; })
      .text(function (d) {
      return d.site.name + ' \u00b7 ' + d.state + ' \u00b7 ' +
        d.site.members + ' members';
    });
    groups.select('title').text(function (d) { return siteTitle(d.site); });
    data.forEach(function (d) {
      var before = page.seen[d.site.name];
      if (!before || before.state !== d.state) {
        page.seen[d.site.name] = {state: d.state, at: Date.now() / 1000};
      }
    });
  }

  /* -- the timeline ------------------------------------------------- */

  var timeline = d3.select('#timeline');
  var x = d3.time.scale.utc();
  var plot = timeline.append('g');
  var lanes = plot.append('g');
  var marks = plot.append('g');
  var axis = timeline.append('g').attr('class', 'x axis');
  var zoomed = false;
  var timeZoom = d3.behavior.zoom().scaleExtent([1, 120])
    .on('zoom', function () {
      zoomed = true;
      document.getElementById('reset-zoom').hidden = false;
      if (last) { drawTimeline(last); }
    });
  timeline.call(timeZoom);
  document.getElementById('reset-zoom').addEventListener('click', function () {
    zoomed = false;
    this.hidden = true;
    if (last) { drawTimeline(last); }
  });

  function drawTimeline(snapshot) {
    var tl = snapshot.timeline;
    var names = snapshot.sites.map(function (s) { return s.name; });
    var height = names.length * LANE_H + AXIS_H + 4;
    timeline.attr('viewBox', '0 0 960 ' + height);
    x.range([LEFT, 960 - RIGHT]);
    if (!zoomed) {
      x.domain([new Date(tl.start * 1000), new Date(tl.end * 1000)]);
      timeZoom.x(x);
    }
    var lane = d3.scale.ordinal().domain(names)
      .rangeBands([0, names.length * LANE_H]);
    axis.attr('transform', 'translate(0,' + (names.length * LANE_H) + ')')
      .call(d3.svg.axis().scale(x).orient('bottom').ticks(8)
            .tickSize(-names.length * LANE_H)
            .tickFormat(d3.time.format.utc('%H:%M:%S')));
    var rows = lanes.selectAll('text').data(names);
    rows.enter().append('text').attr('class', 'lane-label').attr('x', 4);
    rows.exit().remove();
    rows.attr('y', function (n) { return lane(n) + LANE_H / 2 + 4; })
      .text(function (n) { return n; });
    var visible = function (t) {
      var px = x(new Date(t * 1000));
      return px >= LEFT && px <= 960 - RIGHT;
    };
    var at = function (t) { return x(new Date(t * 1000)); };
    var clip = function (t) { return Math.max(LEFT, Math.min(960 - RIGHT, at(t))); };
    marks.selectAll('*').remove();
    tl.outages.forEach(function (o) {
      if (lane(o.site) === undefined) { return; }
      var y = lane(o.site), end = o.recovered_at || tl.end;
      var bar = marks.append('rect').attr('x', clip(o.detected_at))
        .attr('y', y + 3).attr('height', LANE_H - 6)
        .attr('width', Math.max(1, clip(end) - clip(o.detected_at)))
        .attr('fill', '#c62828').attr('opacity', 0.35);
      bar.append('title').text(o.message);
      var mark = function (t, colour, text) {
        if (t === null || !visible(t)) { return; }
        var line = marks.append('line').attr('x1', at(t)).attr('x2', at(t))
          .attr('y1', y + 1).attr('y2', y + LANE_H - 1)
          .attr('stroke', colour).attr('stroke-width', 3);
        line.append('title').text(text);
      };
      mark(o.detected_at, '#c62828',
           o.site + ' detected down at ' + iso(o.detected_at) + ': ' +
           o.message);
      mark(o.recovered_at, '#2e7d32', o.site + ' back up at ' +
           iso(o.recovered_at) + ', ' + seconds(o.detected_at,
                                                 o.recovered_at) +
           ' after detection');
      if (o.replaced_at !== null && visible(o.replaced_at)) {
        marks.append('path').attr('d', 'M0,-6L6,0L0,6L-6,0Z')
          .attr('transform', 'translate(' + at(o.replaced_at) + ',' +
                (y + LANE_H / 2) + ')').attr('fill', '#1565c0')
          .append('title').text('members of ' + o.site +
            ' running elsewhere at ' + iso(o.replaced_at) + ', ' +
            seconds(o.detected_at, o.replaced_at) + ' after detection');
      }
    });
    tl.events.forEach(function (e) {
      if (lane(e.site) === undefined || !visible(e.at)) { return; }
      marks.append('circle').attr('cx', at(e.at))
        .attr('cy', lane(e.site) + LANE_H / 2).attr('r', 3.5)
        .attr('fill', e.kind === 'maintenance' ? '#f9a825' : '#546e7a')
        .attr('opacity', 0.8)
        .append('title').text(iso(e.at) + ' ' + e.site + ': ' + e.label);
    });
  }

  /* -- the tables --------------------------------------------------- */

  function drawTables(snapshot) {
    fill('outages', [
      ['site', function (o) { return o.site; }],
      ['detected down (UTC)', function (o) { return iso(o.detected_at); },
       'time'],
      ['members elsewhere', function (o) {
        return o.replaced_at === null ? '' : iso(o.replaced_at) + ' (+' +
          seconds(o.detected_at, o.replaced_at) + ')';
      }, 'time'],
      ['back up', function (o) {
        return o.recovered_at === null ? 'still down' :
          iso(o.recovered_at) + ' (+' +
          seconds(o.detected_at, o.recovered_at) + ')';
      }, 'time']
    ], snapshot.timeline.outages, null, 'no outage in the last hour');
    fill('alerts', [
      ['raised (UTC)', function (a) { return iso(a.raised_at); }, 'time'],
      ['severity', function (a) { return a.severity; }],
      ['site', function (a) { return a.site; }],
      ['alert', function (a) {
        return a.message + (a.state === 'acknowledged' ?
          ' (acknowledged by ' + a.acknowledged_by + ')' : '');
      }]
    ], snapshot.alerts, function (a) {
      return {'data-alert-kind': a.kind, 'data-site': a.site,
              'class': 'severity-' + a.severity};
    }, 'no open alert');
    fill('actions', [
      ['created (UTC)', function (a) { return iso(a.created_at); }, 'time'],
      ['site', function (a) { return a.site; }],
      ['action', function (a) {
        return a.kind + ' ' + (a.appliance ? a.appliance + '/' : '') +
          a.member;
      }],
      ['state', function (a) { return a.state; }]
    ], snapshot.actions, null, 'no action');
    fill('sites', [
      ['site', function (s) { return s.name; }],
      ['state', function (s) { return stateBadge(siteState(s)); }],
      ['raft', function (s) {
        return s.leader ? 'leader' : s.voter ? 'voter' : 'replica';
      }],
      ['region', function (s) { return s.region; }],
      ['members', function (s) { return s.members; }],
      ['since (UTC)', function (s) { return iso(s.updated_at); }, 'time']
    ], snapshot.sites, function (s) {
      return {'data-site': s.name, 'data-state': siteState(s)};
    }, 'no site');
    var members = [];
    snapshot.appliances.forEach(function (a) {
      a.members.forEach(function (m) {
        members.push({appliance: a.name || a.id, member: m});
      });
    });
    fill('appliances', [
      ['appliance', function (r) { return r.appliance; }],
      ['member', function (r) { return r.member.member; }],
      ['site', function (r) { return r.member.site || '-'; }],
      ['server', function (r) { return r.member.state; }]
    ], members, function (r) {
      return {'data-member': r.member.member, 'data-site': r.member.site};
    }, 'no appliance');
  }

  function summary(snapshot) {
    var f = snapshot.federation;
    return 'leader ' + (f.leader || 'none') + ' (term ' + f.term + ')' +
      ' \u00b7 voters ' + (f.voters.join(', ') || 'none') +
      ' \u00b7 sites ' + f.sites.up + ' up, ' + f.sites.down + ' down of ' +
      f.sites.total + ' \u00b7 ' + snapshot.alerts.length + ' open alert(s)' +
      (f.paused ? ' \u00b7 PAUSED' : '');
  }

  function draw(snapshot) {
    last = snapshot;
    document.getElementById('summary').textContent = summary(snapshot);
    drawSites(snapshot);
    drawTimeline(snapshot);
    drawTables(snapshot);
    page.renders += 1;
    body.setAttribute('data-generated-at', snapshot.generated_at);
    if (page.firstRender === null && page.world) {
      page.firstRender = performance.now() / 1000;
      body.setAttribute('data-ready', 'true');
    }
  }

  function connection(live, text) {
    var box = document.getElementById('connection');
    box.className = live ? 'live' : 'stale';
    box.textContent = text;
  }

  function poll() {
    var headers = token ? {'X-Auth-Token': token} : {};
    fetch(snapshotUrl, {headers: headers, cache: 'no-store'})
      .then(function (response) {
        if (response.status === 401) {
          document.getElementById('login').hidden = false;
          throw new Error('a token is needed');
        }
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.json();
      })
      .then(function (snapshot) {
        draw(snapshot);
        connection(true, 'live, updated ' + snapshot.generated_at);
      })
      .catch(function (error) {
        connection(false, 'not updated since ' +
                   (last ? last.generated_at : 'the page loaded') + ': ' +
                   error.message);
      })
      .then(function () { window.setTimeout(poll, POLL_MS); });
  }

  document.getElementById('login').addEventListener('submit', function (e) {
    e.preventDefault();
    token = document.getElementById('token').value.trim();
    window.sessionStorage.setItem('sodos-token', token);
    this.hidden = true;
  });

  legend();
  fetch(staticUrl + '/world.json').then(function (r) { return r.json(); })
    .then(function (data) {
      drawWorld(data);
      if (last) { draw(last); }
    })
    .catch(function (error) {
      connection(false, 'the world map did not load: ' + error.message);
    });
  poll();
}());
