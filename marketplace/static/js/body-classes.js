// Runs at the start of <body>, before anything is drawn, as GOV.UK Frontend's inline script
// would: marks the page as having JavaScript (and ES modules) so components style themselves.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
