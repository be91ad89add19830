/** @file Execution providers: which ones this onnxruntime-node build has, and a clear error when one is missing. */
import ort from 'onnxruntime-node';

export type Provider = 'cpu' | 'cuda' | 'webgpu';

export class ProviderUnavailableError extends Error {
  override name = 'ProviderUnavailableError';
}

/** Providers onnxruntime-node can load here (bundled ones, plus cuda when its libraries are installed). */
export function availableProviders(): string[] {
  return ort.listSupportedBackends().filter((b) => b.bundled).map((b) => b.name);
}

export function checkProvider(provider: Provider): void {
  if (!['cpu', 'cuda', 'webgpu'].includes(provider)) {
    throw new ProviderUnavailableError(`unknown execution provider '${provider}' (expected cpu | cuda | webgpu)`);
  }
  const backends = ort.listSupportedBackends();
  const entry = backends.find((b) => b.name === provider);
  if (!entry) {
    throw new ProviderUnavailableError(
      `execution provider '${provider}' is not in this onnxruntime-node build (it has: ${backends.map((b) => b.name).join(', ')})`,
    );
  }
  // cuda is listed but not bundled: it needs the CUDA EP binaries (onnxruntime-node's install script
  // with ONNXRUNTIME_NODE_INSTALL=cuda12) and the CUDA 12 / cuDNN 9 libraries on the library path.
  if (!entry.bundled && provider === 'cuda') {
    throw new ProviderUnavailableError(
      "execution provider 'cuda' is missing: this onnxruntime-node install has no CUDA binaries " +
        '(run its install script with ONNXRUNTIME_NODE_INSTALL=cuda12 and put CUDA 12 + cuDNN 9 on LD_LIBRARY_PATH)',
    );
  }
}

/** Rewords a session-creation failure on a GPU provider into one naming what is missing. */
export function providerFailure(provider: Provider, e: Error): Error {
  if (provider === 'cpu') return e;
  const need = provider === 'webgpu' ? 'a Vulkan-capable GPU and driver (webgpu runs on Dawn over Vulkan)' : 'CUDA 12 and cuDNN 9 libraries';
  return new ProviderUnavailableError(`execution provider '${provider}' failed to start, needs ${need}: ${e.message}`);
}
