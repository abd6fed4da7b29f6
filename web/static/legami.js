// Bootstrap Italia loads its fonts by JavaScript: point it at the copied files, not /node_modules.
if (window.bootstrap && window.bootstrap.loadFonts) { window.bootstrap.loadFonts('/static/vendor/bootstrap-italia/fonts'); }
