// File uploads to POST /api/v1/files with XMLHttpRequest, because fetch
// cannot report upload progress. Refreshes the token once on a 401.

import { ApiError } from './api.js';
import * as session from './session.js';

/**
 * @param {File} file
 * @param {(fraction: number) => void} onProgress 0..1
 * @returns {Promise<import('./types.js').FileInfo>}
 */
export async function upload(file, onProgress) {
  const token = await session.accessToken();
  try {
    return await attempt(file, token, onProgress);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      return attempt(file, await session.refresh(token), onProgress);
    }
    throw error;
  }
}

/**
 * @param {File} file
 * @param {string} token
 * @param {(fraction: number) => void} onProgress
 * @returns {Promise<import('./types.js').FileInfo>}
 */
function attempt(file, token, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', '/api/v1/files');
    request.setRequestHeader('authorization', `Bearer ${token}`);
    request.responseType = 'json';
    request.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.addEventListener('load', () => {
      const body = request.response;
      if (request.status === 201 || request.status === 200) {
        onProgress(1);
        resolve(body);
      } else {
        reject(new ApiError(request.status, body?.code ?? 'internal', body?.detail ?? `upload failed (${request.status})`));
      }
    });
    request.addEventListener('error', () => reject(new ApiError(0, 'network', 'The upload was interrupted.')));
    request.addEventListener('abort', () => reject(new ApiError(0, 'aborted', 'The upload was cancelled.')));
    const form = new FormData();
    form.append('file', file, file.name || 'pasted-file');
    request.send(form);
  });
}
