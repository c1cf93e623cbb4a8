/** The page's icon (a bird on a perch), served by the registry itself: no external assets. */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="7" fill="#1f6feb"/>
<path d="M9 19c0-5 3.6-9 8.5-9 2.7 0 4.6 1.4 5.5 3.2l3 .8-2.6 1.6c-.2 4.6-3.9 8.4-8.9 8.4H9z" fill="#fff"/>
<circle cx="20.3" cy="13.6" r="1.1" fill="#1f6feb"/>
<path d="M6 26h20" stroke="#fff" stroke-width="2" stroke-linecap="round"/>
<path d="M13 24v2M17 24v2" stroke="#fff" stroke-width="1.6" stroke-linecap="round"/>
</svg>
`;
