// Two bundles: the extension + CLI for Node (CommonJS, 'vscode' external), and the webview (sidebar, incident room) for the browser.
'use strict';
const path = require('path');
const CopyPlugin = require('copy-webpack-plugin');
const TerserPlugin = require('terser-webpack-plugin');
const { BannerPlugin } = require('webpack');

const tsRule = {
  test: /\.ts$/,
  exclude: /node_modules/,
  use: [{ loader: 'ts-loader', options: { transpileOnly: true, compilerOptions: { sourceMap: true } } }],
};

const LIBRARY_CHUNKS = /^chunks[\\/](tfjs|client-node)\.js$/;

/** @type {import('webpack').Configuration} */
const nodeConfig = {
  name: 'node',
  target: 'node20',
  entry: {
    extension: './src/extension.ts',
    cli: './src/cli/main.ts',
    // the model process the extension forks (src/infra/tfjs/modelProcess.ts); tfjs stays its own chunk
    modelWorker: './src/infra/tfjs/modelWorker.ts',
    // the healing loop's process the extension forks (src/vscode/coreProcess.ts); the host keeps only the UI
    coreWorker: './src/vscode/coreWorker.ts',
    // the console's list+watch of in-cluster agents' Incident resources (src/vscode/clusterConsoleProcess.ts): client-node stays out of the host
    clusterConsoleWorker: './src/vscode/clusterConsoleWorker.ts',
  },
  output: {
    path: path.resolve(__dirname, 'dist'),
    filename: '[name].js',
    chunkFilename: 'chunks/[name].js',
    libraryTarget: 'commonjs2',
    clean: true,
  },
  // __dirname must stay the real dist/ folder at run time: the tfjs wasm files and models are found from it.
  node: { __dirname: false, __filename: false },
  externals: {
    vscode: 'commonjs vscode',
    // optional native speed-ups of 'ws'; it works without them
    bufferutil: 'commonjs bufferutil',
    'utf-8-validate': 'commonjs utf-8-validate',
    // only loaded when it resolves (never installed by us): see src/infra/tfjs
    '@tensorflow/tfjs-node': 'commonjs @tensorflow/tfjs-node',
  },
  resolve: {
    extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    conditionNames: ['node', 'import', 'require', 'default'],
    // tfjs re-exports these, Vigil never uses them in Node (wasm/cpu, layers models only): ~30% of the tfjs chunk.
    alias: { '@tensorflow/tfjs-backend-webgl': false, '@tensorflow/tfjs-converter': false, '@tensorflow/tfjs-data': false },
  },
  module: { rules: [tsRule] },
  devtool: 'source-map',
  plugins: [
    new BannerPlugin({ banner: '#!/usr/bin/env node', raw: true, entryOnly: true, include: /^cli\.js$/ }),
    new CopyPlugin({
      patterns: [{ from: 'node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm', to: '[name][ext]' }],
    }),
  ],
  // Comments and whitespace out, ASCII only (no compress, no mangle: stack traces stay readable). V8 keeps every
  // loaded script's source in memory, as two bytes a character once one non-Latin-1 character is in it: the
  // @kubernetes/client-node chunk was a 31 MB string in the extension host, now 5.7 MB (agent rss 158 -> 108 MB).
  // The two big libraries loaded at run time, TensorFlow.js (the model's first window) and @kubernetes/client-node
  // (connecting), are one chunk each, compressed and mangled (class and function names kept) like their own .min.js
  // builds: V8 keeps a loaded script's source for as long as the host runs, and in an e2e heap snapshot of the
  // extension host client-node's chunk was a 5.6 MB string. A stack trace inside them is read through the source map.
  optimization: {
    minimize: true,
    splitChunks: {
      cacheGroups: {
        tfjs: { test: /[\\/]node_modules[\\/]@tensorflow[\\/]/, name: 'tfjs', chunks: 'async', enforce: true },
        clientNode: { test: /[\\/]node_modules[\\/]@kubernetes[\\/]client-node[\\/]/, name: 'client-node', chunks: 'async', enforce: true },
      },
    },
    minimizer: [
      new TerserPlugin({ exclude: LIBRARY_CHUNKS, extractComments: false, terserOptions: { compress: false, mangle: false, format: { ascii_only: true, comments: false } } }),
      new TerserPlugin({ include: LIBRARY_CHUNKS, extractComments: false, terserOptions: { compress: true, mangle: true, keep_classnames: true, keep_fnames: true, format: { ascii_only: true, comments: false } } }),
    ],
  },
  performance: { hints: false },
  ignoreWarnings: [/Critical dependency/, /Can't resolve 'encoding'/],
  stats: 'errors-warnings',
};

/** @type {import('webpack').Configuration} */
const webviewConfig = {
  name: 'webview',
  target: 'web',
  entry: { webview: './src/webview/main.ts' },
  output: { path: path.resolve(__dirname, 'media/dist'), filename: '[name].js', clean: true },
  resolve: { extensions: ['.ts', '.js'] },
  module: { rules: [tsRule, { test: /\.css$/, type: 'asset/source' }] },
  devtool: 'source-map',
  performance: { hints: false },
  // uPlot's own stylesheet, linked by the webview HTML (style-src allows only files of the extension)
  plugins: [new CopyPlugin({ patterns: [{ from: 'node_modules/uplot/dist/uPlot.min.css', to: 'uPlot.min.css' }] })],
  stats: 'errors-warnings',
};

module.exports = [nodeConfig, webviewConfig];
