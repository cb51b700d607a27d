// A minimal window.PluginApi with the documented shape of Stash's (ui/v2.5/src/pluginApi.tsx and
// docs/en/Manual/UIPluginApi.md): React, ReactDOM, register.route, patch.before/instead/after, components,
// libraries.ReactRouterDOM.Link. Only what a plugin may rely on; nothing PlexSync-specific.
(function () {
  "use strict";
  var React = window.React;
  var routes = [];
  var before = {}, instead = {}, after = {};

  function add(table, name, fn) { (table[name] = table[name] || []).push(fn); }

  // Stash's PatchComponent: before-fns rewrite the arguments, instead-fns wrap the render (each gets the next
  // render function last), after-fns get the arguments plus the result and return the new result.
  function patchComponent(name, render) {
    function Patched(props) {
      var args = [props];
      (before[name] || []).forEach(function (fn) { args = fn.apply(null, args); });
      var chain = render;
      (instead[name] || []).slice().reverse().forEach(function (fn) {
        var next = chain;
        chain = function () { return fn.apply(null, Array.prototype.slice.call(arguments).concat([next])); };
      });
      var result = chain.apply(null, args);
      (after[name] || []).forEach(function (fn) { result = fn.apply(null, args.concat([result])); });
      return result;
    }
    Patched.displayName = name;
    return Patched;
  }

  function navigate(to) {
    window.history.pushState({}, "", to);
    window.dispatchEvent(new Event("harness:navigate"));
  }

  function Link(props) {
    var rest = Object.assign({}, props);
    delete rest.to;
    return React.createElement("a", Object.assign(rest, {
      href: props.to,
      onClick: function (event) { event.preventDefault(); navigate(props.to); },
    }), props.children);
  }

  window.PluginApi = {
    React: React,
    ReactDOM: window.ReactDOM,
    components: {},
    libraries: { ReactRouterDOM: { Link: Link } },
    register: {
      route: function (path, component) { routes.push({ path: path, component: component }); },
      component: function (name, component) { window.PluginApi.components[name] = component; },
    },
    patch: {
      before: function (name, fn) { add(before, name, fn); },
      instead: function (name, fn) { add(instead, name, fn); },
      after: function (name, fn) { add(after, name, fn); },
    },
    // Harness internals used by app.js (not part of Stash's API).
    _harness: { routes: routes, patchComponent: patchComponent, navigate: navigate },
  };
})();
