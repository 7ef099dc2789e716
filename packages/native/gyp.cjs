// For other addons' binding.gyp, the way node-addon-api exports its own include dir:
//   "include_dirs": ["<!(node -p \"require('@x/native/gyp').include_dir\")"]
const path = require('node:path')
const include_dir = path.join(__dirname, 'include')
module.exports = { include_dir, include: `"${include_dir}"` }
