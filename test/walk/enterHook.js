// A TypeScript transformer for the walk (jest.walk.config.js): every function in nodes/ and
// credentials/ starts by telling the walk recorder which file it is in. Test-only: nothing shipped.
const ts = require('typescript');

const name = 'kling-walk-enter';
const version = 1;

function factory() {
	return (context) => {
		const f = context.factory;
		const enter = () =>
			f.createExpressionStatement(
				f.createCallExpression(
					f.createPropertyAccessExpression(f.createIdentifier('globalThis'), '__klingWalk'),
					undefined,
					[f.createIdentifier('__filename')],
				),
			);
		return (source) => {
			if (!/[\\/](nodes|credentials)[\\/]/.test(source.fileName)) return source;
			const visit = (original) => {
				const node = ts.visitEachChild(original, visit, context);
				// A function's block body starts with the report.
				const parent = original.parent;
				if (
					ts.isBlock(original) &&
					parent &&
					ts.isFunctionLike(parent) &&
					parent.body === original
				) {
					return f.updateBlock(node, [enter(), ...node.statements]);
				}
				// An arrow with an expression body reports, then returns the expression.
				if (ts.isArrowFunction(original) && !ts.isBlock(original.body)) {
					const body = f.createBlock([enter(), f.createReturnStatement(node.body)], true);
					return f.updateArrowFunction(
						node,
						node.modifiers,
						node.typeParameters,
						node.parameters,
						node.type,
						node.equalsGreaterThanToken,
						body,
					);
				}
				return node;
			};
			return ts.visitNode(source, visit);
		};
	};
}

module.exports = { name, version, factory };
