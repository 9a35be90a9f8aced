/* eslint-disable */
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
		const withEnter = (body) =>
			ts.isBlock(body)
				? f.updateBlock(body, [enter(), ...body.statements])
				: f.createBlock([enter(), f.createReturnStatement(body)], true);
		return (source) => {
			if (!/[\\/](nodes|credentials)[\\/]/.test(source.fileName)) return source;
			const visit = (node) => {
				node = ts.visitEachChild(node, visit, context);
				if (
					(ts.isFunctionDeclaration(node) ||
						ts.isFunctionExpression(node) ||
						ts.isMethodDeclaration(node) ||
						ts.isGetAccessorDeclaration(node) ||
						ts.isSetAccessorDeclaration(node) ||
						ts.isConstructorDeclaration(node) ||
						ts.isArrowFunction(node)) &&
					node.body
				) {
					const body = withEnter(node.body);
					if (ts.isFunctionDeclaration(node))
						return f.updateFunctionDeclaration(
							node,
							node.modifiers,
							node.asteriskToken,
							node.name,
							node.typeParameters,
							node.parameters,
							node.type,
							body,
						);
					if (ts.isFunctionExpression(node))
						return f.updateFunctionExpression(
							node,
							node.modifiers,
							node.asteriskToken,
							node.name,
							node.typeParameters,
							node.parameters,
							node.type,
							body,
						);
					if (ts.isMethodDeclaration(node))
						return f.updateMethodDeclaration(
							node,
							node.modifiers,
							node.asteriskToken,
							node.name,
							node.questionToken,
							node.typeParameters,
							node.parameters,
							node.type,
							body,
						);
					if (ts.isGetAccessorDeclaration(node))
						return f.updateGetAccessorDeclaration(
							node,
							node.modifiers,
							node.name,
							node.parameters,
							node.type,
							body,
						);
					if (ts.isSetAccessorDeclaration(node))
						return f.updateSetAccessorDeclaration(
							node,
							node.modifiers,
							node.name,
							node.parameters,
							body,
						);
					if (ts.isConstructorDeclaration(node)) {
						// A constructor with parameter properties must keep super() and the assignments first.
						return f.updateConstructorDeclaration(
							node,
							node.modifiers,
							node.parameters,
							f.updateBlock(node.body, [...node.body.statements, enter()]),
						);
					}
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
